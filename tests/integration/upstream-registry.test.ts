// The registry of upstream providers and linked identities (src/upstream/), wired as the server
// wires it (src/root.ts), on a real PostgreSQL database and on the embedded PGlite: the same tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppError } from '../../src/errors/app-error.ts';
import { IDENTITY_BATCH } from '../../src/upstream/identity.repo.ts';
import { testRoot, type Root } from '../support/root.ts';
import { migratedEmbedded, migratedPostgres, tempDir, testConfig, type OpenStore } from '../support/stores.ts';
import { requireReal } from '../support/env.ts';

requireReal();

const CLI = { actorId: null, clientId: null, ip: null, userAgent: 'test' };
const SECRET = 'upstream-client-secret-VALUE-9f2c41';

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const backends: Array<[string, () => Promise<{ store: OpenStore; root: Root; dispose(): Promise<void> }>]> = [
  ['postgres', async () => {
    const store = await migratedPostgres();
    const dir = tempDir();
    const root = testRoot(testConfig({ databaseUrl: store.url, dataDir: dir.path }), store.db);
    return { store, root, async dispose() { await store.dispose(); dir.remove(); } };
  }],
  ['embedded PGlite', async () => {
    const store = await migratedEmbedded();
    const root = testRoot(testConfig({ dataDir: store.dataDir }), store.db);
    return { store, root, dispose: () => store.dispose() };
  }],
];

describe.each(backends)('upstream registry on %s', (_label, open) => {
  let c: Root;
  let dispose: () => Promise<void>;
  let seq = 0;
  const email = (label: string) => `${label}-${seq++}@example.com`;
  const rowOf = (name: string) => c.db.knex('upstream_providers').where({ name }).first();
  const auditOf = (type: string) => c.db.knex('audit_events').where({ type }).orderBy('id');

  beforeAll(async () => { ({ root: c, dispose } = await open()); });
  afterAll(async () => { await dispose?.(); });

  describe('providers', () => {
    it('creates an OpenID provider: the secret is sealed at rest, never in a view, opened for the server', async () => {
      const created = await c.providers.create({ name: 'corp', issuer: 'https://idp.corp.example', client_id: 'gh-client', client_secret: SECRET }, CLI);
      expect(created).toMatchObject({
        name: 'corp', kind: 'oidc', display_name: 'corp', issuer: 'https://idp.corp.example', client_id: 'gh-client',
        has_client_secret: true, public_jwks: null, enabled: true, source: 'cli', allow_signup: false, trust_email_verified: false,
        trust_mfa: false, scopes: ['openid', 'email', 'profile'], token_endpoint_auth_method: 'client_secret_basic',
        callback_url: `${c.config.issuer}/providers/corp/callback`,
      });
      expect(JSON.stringify(created)).not.toContain(SECRET);
      const row = await rowOf('corp');
      expect(JSON.stringify(row)).not.toContain(SECRET);
      expect(row.client_secret_encrypted).toMatch(/^v1\./);
      expect((await c.providers.get('corp'))!.client_secret).toBe(SECRET);
      expect(await c.providers.get('nope')).toBeUndefined();
      const [event] = await auditOf('provider.created');
      expect(event.data).toEqual({ provider: 'corp', kind: 'oidc', source: 'cli' });
      expect(JSON.stringify(event)).not.toContain(SECRET);
    });

    it('refuses a duplicate name (409), a bad name, a plain-http issuer off loopback, a missing secret (400)', async () => {
      expect((await appError(c.providers.create({ name: 'corp', issuer: 'https://x.example', client_id: 'a', client_secret: 'b' }, CLI))).status).toBe(409);
      const bad = await appError(c.providers.create({ name: 'Corp_1', issuer: 'https://x.example', client_id: 'a', client_secret: 'b' }, CLI));
      expect([bad.status, bad.code]).toEqual([400, 'invalid_provider']);
      expect(bad.message).toContain('name');
      expect((await appError(c.providers.create({ name: 'plain', issuer: 'http://idp.example', client_id: 'a', client_secret: 'b' }, CLI))).message).toMatch(/https/);
      expect((await appError(c.providers.create({ name: 'nosecret', issuer: 'https://idp.example', client_id: 'a' }, CLI))).message).toMatch(/client secret/);
      expect((await appError(c.providers.create({ name: 'noissuer', client_id: 'a', client_secret: 'b' }, CLI))).message).toMatch(/issuer is required/);
      // loopback http is fine outside production (tests point providers at local servers)
      await c.providers.create({ name: 'local', issuer: 'http://127.0.0.1:9999', client_id: 'a', client_secret: 'b', enabled: false }, CLI);
    });

    it('private_key_jwt: a key pair per provider; the public JWKS shown, the private key sealed; rotate_key replaces it', async () => {
      const created = await c.providers.create({ name: 'okta', display_name: 'Okta', issuer: 'https://corp.okta.example', client_id: 'okta-app', token_endpoint_auth_method: 'private_key_jwt' }, CLI);
      expect(created.has_client_secret).toBe(false);
      const [jwk] = created.public_jwks!.keys;
      expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
      const row = await rowOf('okta');
      expect(JSON.stringify(row.settings)).not.toContain('"d"');
      const config = await c.providers.get('okta');
      expect(config!.private_jwk).toMatchObject({ kid: jwk!.kid, d: expect.any(String) });
      expect(row.private_key_encrypted).not.toContain(config!.private_jwk!.d);
      const rotated = await c.providers.update('okta', { rotate_key: true }, CLI);
      expect(rotated.public_jwks!.keys[0]!.kid).not.toBe(jwk!.kid);
      expect((await appError(c.providers.update('okta', { client_secret: 'x' }, CLI))).message).toMatch(/key pair/);
    });

    it('presets fill their defaults; settings of another kind are refused', async () => {
      const google = await c.providers.create({ name: 'google', kind: 'google', client_id: 'g', client_secret: 's', hosted_domain: 'Example.com', allow_signup: true }, CLI);
      expect(google).toMatchObject({ display_name: 'Google', issuer: 'https://accounts.google.com', trust_email_verified: true, hosted_domain: 'example.com', allow_signup: true });
      const ms = await c.providers.create({ name: 'entra', kind: 'microsoft', client_id: 'm', client_secret: 's', tenant: 'organizations', tenants: ['0b5b2a3e-4c5d-4e6f-8a9b-0c1d2e3f4a5b'] }, CLI);
      expect(ms).toMatchObject({ issuer: 'https://login.microsoftonline.com/organizations/v2.0', tenant: 'organizations', trust_email_verified: false });
      const moved = await c.providers.update('entra', { tenant: '0b5b2a3e-4c5d-4e6f-8a9b-0c1d2e3f4a5b' }, CLI);
      expect(moved.issuer).toBe('https://login.microsoftonline.com/0b5b2a3e-4c5d-4e6f-8a9b-0c1d2e3f4a5b/v2.0');
      const gh = await c.providers.create({ name: 'github', kind: 'github', client_id: 'gh', client_secret: 's', endpoints: { token_endpoint: 'http://127.0.0.1:4010/login/oauth/access_token' } }, CLI);
      expect(gh).toMatchObject({ issuer: null, token_endpoint_auth_method: 'client_secret_post', scopes: ['read:user', 'user:email'] });
      const ghConfig = await c.providers.get('github');
      expect(ghConfig!.endpoints).toEqual({
        authorization_endpoint: 'https://github.com/login/oauth/authorize', token_endpoint: 'http://127.0.0.1:4010/login/oauth/access_token',
        userinfo_endpoint: 'https://api.github.com/user', emails_endpoint: 'https://api.github.com/user/emails',
      });
      expect((await c.providers.create({ name: 'gitlab-self', kind: 'gitlab', issuer: 'https://git.corp.example', client_id: 'x', client_secret: 's' }, CLI)).trust_email_verified).toBe(false);
      expect((await appError(c.providers.create({ name: 'gh2', kind: 'github', issuer: 'https://github.com', client_id: 'x', client_secret: 's' }, CLI))).message).toMatch(/no issuer/);
      expect((await appError(c.providers.update('corp', { hosted_domain: 'example.com' }, CLI))).message).toMatch(/google/);
      expect((await appError(c.providers.update('corp', { scopes: 'email profile' }, CLI))).message).toMatch(/openid/);
      expect((await appError(c.providers.update('corp', { name: 'other' } as never, CLI))).message).toMatch(/cannot change/);
      expect((await appError(c.providers.update('missing', { display_name: 'x' }, CLI))).status).toBe(404);
    });

    it('updates what is given, keeps the secret, audits the field names (never the values)', async () => {
      const updated = await c.providers.update('corp', { display_name: 'Corp SSO', allowed_email_domains: ['corp.example'], org_sync: [{ claim: 'groups', workspace: 'team-{value}', role: 'member' }] }, CLI);
      expect(updated).toMatchObject({ display_name: 'Corp SSO', allowed_email_domains: ['corp.example'], has_client_secret: true, org_sync: [{ claim: 'groups', workspace: 'team-{value}', role: 'member', create_workspace: false }] });
      expect((await c.providers.get('corp'))!.client_secret).toBe(SECRET);
      await c.providers.update('corp', { client_secret: 'a-new-secret' }, CLI);
      expect((await c.providers.get('corp'))!.client_secret).toBe('a-new-secret');
      const events = await auditOf('provider.updated');
      expect(events.at(-1).data).toEqual({ provider: 'corp', fields: ['client_secret'] });
      expect(JSON.stringify(events)).not.toContain('a-new-secret');
    });

    it('offeredTo: enabled providers an app offers, in button order; byEmailDomain: home-realm discovery', async () => {
      await c.providers.update('google', { order: 1, client_ids: ['app-a'], home_realm_domains: ['gmail.example'] }, CLI);
      await c.providers.update('corp', { order: 5, home_realm_domains: ['corp.example'] }, CLI);
      const forA = (await c.providers.offeredTo('app-a')).map((p) => p.name);
      const forB = (await c.providers.offeredTo('app-b')).map((p) => p.name);
      expect(forA[0]).toBe('google');
      expect(forA).toContain('corp');
      expect(forA).not.toContain('local'); // disabled
      expect(forB).not.toContain('google');
      const [first] = await c.providers.offeredTo('app-a');
      expect(Object.keys(first!).sort()).toEqual(['display_name', 'icon', 'icon_svg', 'kind', 'name', 'order']);
      expect(first!.icon_svg).toMatch(/^<svg /);
      expect((await c.providers.byEmailDomain('CORP.example', 'app-b'))?.name).toBe('corp');
      expect(await c.providers.byEmailDomain('gmail.example', 'app-b')).toBeUndefined();
      expect((await c.providers.byEmailDomain('gmail.example', 'app-a'))?.name).toBe('google');
      expect(await c.providers.byEmailDomain('other.example')).toBeUndefined();
    });
  });

  describe('identities', () => {
    it('insert, find by (provider, subject) only, list, touch, count, remove; the pair is unique', async () => {
      const user = await c.accounts.create({ email: email('idn') });
      const row = await c.identityRepo.insert({ provider: 'corp', subject: 'sub-1', user_id: user.id, email: 'old@corp.example' });
      expect(row).toMatchObject({ provider: 'corp', subject: 'sub-1', user_id: user.id, email: 'old@corp.example', last_sign_in_at: null });
      expect((await c.identityRepo.findByProviderSubject('corp', 'sub-1'))!.id).toBe(row.id);
      expect(await c.identityRepo.findByProviderSubject('google', 'sub-1')).toBeUndefined();
      await expect(c.identityRepo.insert({ provider: 'corp', subject: 'sub-1', user_id: user.id })).rejects.toMatchObject({ code: '23505' });
      await c.identityRepo.touchSignIn(row.id, 'new@corp.example');
      const touched = await c.identityRepo.findByProviderSubject('corp', 'sub-1');
      expect(touched).toMatchObject({ email: 'new@corp.example', last_sign_in_at: expect.any(Date) });
      await c.identityRepo.insert({ provider: 'google', subject: 'g-1', user_id: user.id });
      expect((await c.identityRepo.listForUser(user.id)).map((i) => i.provider).sort()).toEqual(['corp', 'google']);
      expect(await c.identityRepo.countForUser(user.id)).toBe(2);
      expect(await c.identityRepo.remove(user.id, 'google', 'g-1')).toBe(true);
      expect(await c.identityRepo.remove(user.id, 'google', 'g-1')).toBe(false);
      expect(await c.identityRepo.countForUser(user.id)).toBe(1);
    });

    it('insertMany writes in batches, in the caller\'s transaction (all or nothing)', async () => {
      const user = await c.accounts.create({ email: email('many') });
      const n = IDENTITY_BATCH * 2 + 7;
      const rows = Array.from({ length: n }, (_, i) => ({ provider: 'okta', subject: `bulk-${i}`, user_id: user.id }));
      expect(await c.transactions.run((tx) => c.identityRepo.insertMany(rows, tx))).toBe(n);
      expect(await c.identityRepo.countForUser(user.id)).toBe(n);
      const other = await c.accounts.create({ email: email('many2') });
      const clash = [...Array.from({ length: IDENTITY_BATCH + 1 }, (_, i) => ({ provider: 'okta', subject: `more-${i}`, user_id: other.id })), { provider: 'okta', subject: 'bulk-0', user_id: other.id }];
      await expect(c.transactions.run((tx) => c.identityRepo.insertMany(clash, tx))).rejects.toMatchObject({ code: '23505' });
      expect(await c.identityRepo.countForUser(other.id)).toBe(0);
    });
  });

  describe('removing a provider', () => {
    it('is refused while a user would be left with no way to sign in, says how many; --force removes it and its identities', async () => {
      const stranded = await c.accounts.create({ email: email('only') });
      const withPassword = await c.accounts.create({ email: email('pw'), password: 'correct horse battery staple' });
      await c.providers.create({ name: 'doomed', issuer: 'https://doomed.example', client_id: 'd', client_secret: 's' }, CLI);
      await c.identityRepo.insertMany([
        { provider: 'doomed', subject: 's1', user_id: stranded.id },
        { provider: 'doomed', subject: 's2', user_id: withPassword.id },
      ]);
      expect(await c.providers.impact('doomed')).toEqual({ linked_users: 2, only_through_provider: 1 });
      const refused = await appError(c.providers.remove('doomed', {}, CLI));
      expect([refused.status, refused.code]).toEqual([409, 'provider_in_use']);
      expect(refused.message).toMatch(/1 user with no way to sign in/);
      expect(await rowOf('doomed')).toBeDefined();
      // a second identity elsewhere is a way in
      await c.identityRepo.insert({ provider: 'corp', subject: 'also', user_id: stranded.id });
      expect(await c.providers.impact('doomed')).toEqual({ linked_users: 2, only_through_provider: 0 });
      await c.identityRepo.remove(stranded.id, 'corp', 'also');
      expect(await c.providers.remove('doomed', { force: true }, CLI)).toEqual({ deleted: 'doomed', linked_users: 2, only_through_provider: 1 });
      expect(await rowOf('doomed')).toBeUndefined();
      expect(await c.identityRepo.countForUser(stranded.id)).toBe(0);
      expect((await auditOf('provider.deleted')).at(-1).data).toMatchObject({ provider: 'doomed', forced: true });
      expect((await appError(c.providers.remove('doomed', {}, CLI))).status).toBe(404);
    });
  });

  describe('the providers file', () => {
    it('creates from the file with secrets from the environment; a second start changes nothing; a change updates', async () => {
      const dir = tempDir();
      const path = join(dir.path, 'providers.yaml');
      writeFileSync(path, [
        'providers:',
        '  - name: gitops',
        '    preset: gitlab',
        '    client_id: gl-app',
        '    client_secret_env: GITOPS_SECRET',
        '    allow_signup: true',
        '    org_sync:',
        '      - { claim: groups, value: admins, workspace: ops, role: admin }',
      ].join('\n'));
      const env = { GITOPS_SECRET: 'from-the-environment' };
      expect(await c.providers.applyFile(path, env)).toEqual({ created: ['gitops'], updated: [], unchanged: [] });
      const p = await c.providers.show('gitops');
      expect(p).toMatchObject({ kind: 'gitlab', source: 'file', allow_signup: true, issuer: 'https://gitlab.com', org_sync: [{ claim: 'groups', value: 'admins', workspace: 'ops', role: 'admin' }] });
      expect((await c.providers.get('gitops'))!.client_secret).toBe('from-the-environment');
      const events = (await auditOf('provider.created')).length + (await auditOf('provider.updated')).length;
      expect(await c.providers.applyFile(path, env)).toEqual({ created: [], updated: [], unchanged: ['gitops'] });
      expect((await auditOf('provider.created')).length + (await auditOf('provider.updated')).length).toBe(events);
      writeFileSync(path, 'providers:\n  - { name: gitops, preset: gitlab, client_id: gl-app, client_secret_env: GITOPS_SECRET }\n');
      expect(await c.providers.applyFile(path, env)).toEqual({ created: [], updated: ['gitops'], unchanged: [] });
      expect(await c.providers.show('gitops')).toMatchObject({ allow_signup: false, org_sync: [] });
      dir.remove();
    });

    it('refuses a plaintext secret, an unset variable, a bad entry: nothing applied', async () => {
      const dir = tempDir();
      const path = join(dir.path, 'providers.json');
      writeFileSync(path, JSON.stringify([{ name: 'plain', issuer: 'https://p.example', client_id: 'x', client_secret: 'in-git' }]));
      expect((await appError(c.providers.applyFile(path, {}))).message).toMatch(/client_secret_env/);
      writeFileSync(path, JSON.stringify([{ name: 'unset', issuer: 'https://p.example', client_id: 'x', client_secret_env: 'NOT_SET_ANYWHERE' }]));
      expect((await appError(c.providers.applyFile(path, {}))).message).toMatch(/NOT_SET_ANYWHERE, which is not set/);
      writeFileSync(path, JSON.stringify([
        { name: 'fine', issuer: 'https://p.example', client_id: 'x', client_secret_env: 'S' },
        { name: 'BAD NAME', issuer: 'https://p.example', client_id: 'x', client_secret_env: 'S' },
      ]));
      expect((await appError(c.providers.applyFile(path, { S: 'v' }))).message).toMatch(/entry 2/);
      expect(await rowOf('fine')).toBeUndefined();
      dir.remove();
    });
  });
});
