// Managing upstream identity providers end to end: the `gatehouse providers` CLI (--json, the secret
// from stdin, the callback URL and public JWKS it prints), the admin API with its refusals, the
// console page in Chromium, and the providers file applied at start (embedded store: the CLI goes
// through the running server's control socket).
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import knexFactory, { type Knex } from 'knex';
import type { Browser } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

// each CLI command boots the server's root: slow on a busy machine
jest.setTimeout(240_000);

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'providers admin pass phrase 7';
const SECRET = 'corp-upstream-secret-d41d8cd98f00b204';
let gh: TestServer;
let db: Knex;
let adminToken: string;
let plebToken: string;
let adminId: string;

const api = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}/api/admin/providers${path}`, {
  ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
});
const json = async (r: Response) => ({ status: r.status, body: await r.json() as any });

/** The embedded store's first boot (PGlite, migrations) can outlast one readiness window when the machine is busy. */
async function readyOnABusyMachine(server: TestServer, windows = 4): Promise<void> {
  for (let i = 1; ; i++) {
    try { return await server.ready(); } catch (e) { if (i >= windows) throw e; }
  }
}

/** A user who can sign in only through `provider` (no password, no passkey). */
async function strandedUser(provider: string, email: string): Promise<string> {
  const u = await gh.cliJson(['users', 'create', '--email', email]);
  await db('user_identities').insert({ id: crypto.randomUUID(), provider, subject: `sub-${email}`, user_id: u.id });
  return u.id;
}

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_ADMIN_CONSOLE_MFA: 'false' } });
  db = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL });
  const app = await gh.cliJson(['clients', 'create', '--name', 'Ops', '--redirect-uri', REDIRECT, '--scopes', 'openid admin']);
  adminId = (await gh.cliJson(['users', 'create', '--email', 'root@example.test', '--password', PASSWORD, '--admin'])).id;
  await gh.cliJson(['users', 'create', '--email', 'pleb@example.test', '--password', PASSWORD]);
  const cfg = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
  const token = async (email: string) => (await signIn(cfg, { issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT, email, password: PASSWORD, scope: 'openid admin' })).tokens.access_token;
  adminToken = await token('root@example.test');
  plebToken = await token('pleb@example.test');
});
afterAll(async () => { await db?.destroy(); await gh?.destroy(); });

describe('gatehouse providers (CLI)', () => {
  it('add reads the secret from stdin, prints the callback URL to register, never the secret', async () => {
    const r = await gh.cli(['providers', 'add', '--name', 'corp', '--issuer', 'https://idp.corp.example', '--client-id', 'ID', '--client-secret-stdin', '--json'], { input: `${SECRET}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(SECRET);
    const p = JSON.parse(r.stdout);
    expect(p).toMatchObject({ name: 'corp', kind: 'oidc', client_id: 'ID', has_client_secret: true, callback_url: `${gh.issuer}/providers/corp/callback`, source: 'cli' });
    const row = await db('upstream_providers').where({ name: 'corp' }).first();
    expect(JSON.stringify(row)).not.toContain(SECRET);
    const [event] = await db('audit_events').where({ type: 'provider.created' });
    expect(event).toMatchObject({ actor_id: null, user_agent: 'gatehouse CLI' });
    expect(event.data).toEqual({ provider: 'corp', kind: 'oidc', source: 'cli' });
  });

  it('presets; the human output says what to register; private_key_jwt prints the public JWKS', async () => {
    const google = await gh.cli(['providers', 'add', '--name', 'google', '--preset', 'google', '--client-id', 'g.apps', '--client-secret-stdin', '--hosted-domain', 'example.com'], { input: 'google-secret' });
    expect(google.code).toBe(0);
    expect(google.stdout).toContain('Register this redirect URI with the provider:');
    expect(google.stdout).toContain(`${gh.issuer}/providers/google/callback`);
    expect(google.stdout).toMatch(/issuer:\s+https:\/\/accounts.google.com/);
    const okta = await gh.cli(['providers', 'add', '--name', 'okta', '--issuer', 'https://corp.okta.example', '--client-id', 'okta-app', '--auth-method', 'private_key_jwt']);
    expect(okta.code).toBe(0);
    expect(okta.stdout).toContain('Register this public key (JWKS)');
    const jwks = JSON.parse(okta.stdout.split('\n').find((l) => l.trim().startsWith('{"keys"'))!.trim());
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  it('list, show, update (booleans, lists, org sync), and clear refusals with exit codes', async () => {
    const list = await gh.cliJson(['providers', 'list']);
    expect(list.map((p: any) => p.name)).toEqual(['corp', 'google', 'okta']);
    expect(JSON.stringify(list)).not.toContain(SECRET);
    const updated = await gh.cliJson(['providers', 'update', 'corp', '--allow-signup', '--trust-email-verified', 'true', '--allowed-email-domains', 'corp.example,corp.test',
      '--org-sync', '[{"claim":"groups","workspace":"team-{value}"}]', '--display-name', 'Corp SSO']);
    expect(updated).toMatchObject({ allow_signup: true, trust_email_verified: true, allowed_email_domains: ['corp.example', 'corp.test'], display_name: 'Corp SSO', org_sync: [{ claim: 'groups', workspace: 'team-{value}', role: 'member', create_workspace: false }] });
    expect((await gh.cliJson(['providers', 'update', 'corp', '--allow-signup', 'false'])).allow_signup).toBe(false);
    expect((await gh.cliJson(['providers', 'show', 'corp'])).has_client_secret).toBe(true);
    const dup = await gh.cli(['providers', 'add', '--name', 'corp', '--issuer', 'https://x.example', '--client-id', 'x', '--client-secret-stdin'], { input: 's' });
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    const insecure = await gh.cli(['providers', 'add', '--name', 'plain', '--issuer', 'http://idp.example', '--client-id', 'x', '--client-secret-stdin'], { input: 's' });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/https/);
    const missing = await gh.cli(['providers', 'show', 'nope']);
    expect(missing.code).toBe(4);
  });

  it('remove refuses while a user would be locked out and says how many; --force removes it', async () => {
    await gh.cli(['providers', 'add', '--name', 'legacy', '--issuer', 'https://legacy.example', '--client-id', 'l', '--client-secret-stdin'], { input: 's' });
    await strandedUser('legacy', 'only-legacy@example.test');
    const refused = await gh.cli(['providers', 'remove', 'legacy']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/would leave 1 user with no way to sign in/);
    const forced = await gh.cliJson(['providers', 'remove', 'legacy', '--force']);
    expect(forced).toEqual({ deleted: 'legacy', linked_users: 1, only_through_provider: 1 });
    expect(await db('user_identities').where({ provider: 'legacy' })).toHaveLength(0);
  });

  it('clients can turn the password off (password_sign_in)', async () => {
    const c = await gh.cliJson(['clients', 'create', '--name', 'SSO only', '--redirect-uri', REDIRECT, '--no-password-sign-in']);
    expect(c.password_sign_in).toBe(false);
    expect((await gh.cliJson(['clients', 'show', c.client_id])).password_sign_in).toBe(false);
  });
});

describe('/api/admin/providers', () => {
  it('needs an admin with the admin scope', async () => {
    expect((await api('', undefined)).status).toBe(401);
    const r = await json(await api('', plebToken));
    expect([r.status, r.body.error]).toEqual([403, 'not_admin']);
  });

  it('creates (201), lists, shows, updates, refuses bad input (400), unknown (404), duplicates and lock-outs (409), removes', async () => {
    const created = await json(await api('', adminToken, { method: 'POST', body: JSON.stringify({ name: 'github', kind: 'github', client_id: 'Iv1.abc', client_secret: 'gh-secret', allow_signup: true }) }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'github', issuer: null, has_client_secret: true, source: 'api', callback_url: `${gh.issuer}/providers/github/callback` });
    expect(JSON.stringify(created.body)).not.toContain('gh-secret');
    const [event] = await db('audit_events').where({ type: 'provider.created' }).whereRaw("data->>'provider' = 'github'");
    expect(event.actor_id).toBe(adminId);

    for (const [body, pattern] of [
      [{ name: 'Bad Name', issuer: 'https://x.example', client_id: 'a', client_secret: 'b' }, /name/],
      [{ name: 'x1', issuer: 'https://x.example', client_id: 'a', client_secret: 'b', surprise: true }, /surprise|unrecognized/i],
      [{ name: 'x2', issuer: 'ftp://x.example', client_id: 'a', client_secret: 'b' }, /https/],
      [{ name: 'x3', kind: 'github', client_id: 'a', token_endpoint_auth_method: 'private_key_jwt' }, /GitHub/],
      [[1, 2], /JSON object/],
    ] as const) {
      const r = await json(await api('', adminToken, { method: 'POST', body: JSON.stringify(body) }));
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(pattern);
    }
    expect((await json(await api('', adminToken, { method: 'POST', body: JSON.stringify({ name: 'github', kind: 'github', client_id: 'x', client_secret: 'y' }) }))).status).toBe(409);

    const listed = await json(await api('', adminToken));
    expect(listed.body.map((p: any) => p.name)).toContain('github');
    expect((await json(await api('/github', adminToken))).body.allow_signup).toBe(true);
    expect((await json(await api('/nope', adminToken))).status).toBe(404);

    const patched = await json(await api('/github', adminToken, { method: 'PATCH', body: JSON.stringify({ endpoints: { token_endpoint: 'http://127.0.0.1:4010/token' }, client_ids: ['web'] }) }));
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ endpoints: { token_endpoint: 'http://127.0.0.1:4010/token' }, client_ids: ['web'] });
    expect((await json(await api('/github', adminToken, { method: 'PATCH', body: JSON.stringify({ name: 'gh' }) }))).status).toBe(400);
    expect((await json(await api('/nope', adminToken, { method: 'PATCH', body: JSON.stringify({ enabled: false }) }))).status).toBe(404);

    await strandedUser('github', 'gh-only@example.test');
    expect((await json(await api('/github/impact', adminToken))).body).toEqual({ linked_users: 1, only_through_provider: 1 });
    const refused = await json(await api('/github', adminToken, { method: 'DELETE' }));
    expect([refused.status, refused.body.error]).toEqual([409, 'provider_in_use']);
    expect(refused.body.message).toMatch(/1 user/);
    expect((await json(await api('/github?force=maybe', adminToken, { method: 'DELETE' }))).status).toBe(400);
    const removed = await json(await api('/github?force=true', adminToken, { method: 'DELETE' }));
    expect(removed).toEqual({ status: 200, body: { deleted: 'github', linked_users: 1, only_through_provider: 1 } });
    expect((await json(await api('/github', adminToken, { method: 'DELETE' }))).status).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as any;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/admin/providers', '/api/admin/providers/{name}', '/api/admin/providers/{name}/impact']));
    expect(doc.paths['/api/admin/providers'].post.responses).toHaveProperty('409');
  });
});

describe('console /admin/providers (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    const r = await api('', adminToken, { method: 'POST', body: JSON.stringify({ name: 'intranet', display_name: 'Intranet SSO', issuer: 'https://sso.intranet.example', client_id: 'x', client_secret: 'intranet-secret' }) });
    expect(r.status).toBe(201);
  });
  afterAll(async () => { await browser?.close(); });

  it('adds, edits and removes a provider; the secret is never shown; the callback URL is there to copy', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/admin/providers`);
    await signInAs(page, 'root@example.test', PASSWORD);
    await page.waitForURL(`${gh.issuer}/admin/providers`);
    await expect(page.getByRole('link', { name: 'Intranet SSO', exact: true }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-providers');

    await page.getByRole('link', { name: 'Add provider' }).click();
    await page.getByLabel('Kind').selectOption('microsoft');
    await page.getByLabel('Name', { exact: true }).fill('entra');
    await page.getByLabel('Client ID').fill('00000000-aaaa-bbbb-cccc-000000000000');
    await page.getByLabel('Client secret').fill('entra-console-secret');
    await page.getByLabel('Microsoft tenant (optional)').fill('organizations');
    await page.getByLabel('Create accounts').check();
    await screenshot(page, 'admin-provider-new');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.waitForURL(`${gh.issuer}/admin/providers/entra?done=created`);
    await expect(page.locator('#callback').inputValue()).resolves.toBe(`${gh.issuer}/providers/entra/callback`);
    expect(await page.content()).not.toContain('entra-console-secret');
    await expect(page.getByRole('button', { name: 'Copy callback URL' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-provider-edit');
    const stored = await gh.cliJson(['providers', 'show', 'entra']);
    expect(stored).toMatchObject({ kind: 'microsoft', tenant: 'organizations', issuer: 'https://login.microsoftonline.com/organizations/v2.0', allow_signup: true, has_client_secret: true, source: 'console' });

    // a mistake shows on the form, with what was typed (never the secret)
    await page.getByLabel('Allowed email domains (optional)').fill('not a domain!');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/domain/);
    await page.getByLabel('Allowed email domains (optional)').fill('corp.example');
    await page.getByLabel('Button name (optional)').fill('Microsoft work account');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(`${gh.issuer}/admin/providers/entra?done=saved`);
    expect(await gh.cliJson(['providers', 'show', 'entra'])).toMatchObject({ display_name: 'Microsoft work account', allowed_email_domains: ['corp.example'], has_client_secret: true });
    const [updated] = await db('audit_events').where({ type: 'provider.updated' }).whereRaw("data->>'provider' = 'entra'").orderBy('id', 'desc');
    expect(updated.actor_id).toBe(adminId);

    await strandedUser('entra', 'entra-only@example.test');
    await page.goto(`${gh.issuer}/admin/providers/entra/delete`);
    await expect(page.getByText('1 user would have no way to sign in').isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-provider-delete');
    await page.getByLabel(/I understand/).check();
    await page.getByRole('button', { name: 'Remove provider' }).click();
    await page.waitForURL(`${gh.issuer}/admin/providers?done=deleted`);
    expect((await gh.cli(['providers', 'show', 'entra'])).code).toBe(4);
    const [deleted] = await db('audit_events').where({ type: 'provider.deleted' }).whereRaw("data->>'provider' = 'entra'");
    expect(deleted.actor_id).toBe(adminId);
    await context.close();
  });

  it('private_key_jwt: shows the public key to copy, and makes a new pair on request', async () => {
    const created = await json(await api('', adminToken, { method: 'POST', body: JSON.stringify({ name: 'keyed', issuer: 'https://keyed.example', client_id: 'k', token_endpoint_auth_method: 'private_key_jwt' }) }));
    expect(created.status).toBe(201);
    const kid = created.body.public_jwks.keys[0].kid;
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/admin/providers/keyed`);
    await signInAs(page, 'root@example.test', PASSWORD);
    await page.waitForURL(`${gh.issuer}/admin/providers/keyed`);
    const shown = JSON.parse(await page.locator('#jwks').inputValue());
    expect(shown.keys[0].kid).toBe(kid);
    expect(shown.keys[0].d).toBeUndefined();
    await page.getByRole('button', { name: 'Make a new key pair' }).click();
    await page.waitForURL(`${gh.issuer}/admin/providers/keyed?done=rotated`);
    const after = JSON.parse(await page.locator('#jwks').inputValue());
    expect(after.keys[0].kid).not.toBe(kid);
    expect((await json(await api('/keyed', adminToken))).body.public_jwks.keys[0].kid).toBe(after.keys[0].kid);
    await screenshot(page, 'admin-provider-keyed');
    await context.close();
  });

  it('refuses a form without the CSRF token', async () => {
    const r = await fetch(`${gh.issuer}/admin/providers/intranet/delete`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ force: 'on' }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
    expect(r.status).not.toBe(303);
    expect((await json(await api('/intranet', adminToken))).status).toBe(200);
  });
});

describe('GATEHOUSE_PROVIDERS_FILE (embedded store)', () => {
  it('applies the file at start with the secret from the environment; the CLI reaches it over the control socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-providers-'));
    const file = join(dir, 'providers.yaml');
    writeFileSync(file, [
      'providers:',
      '  - name: google',
      '    preset: google',
      '    client_id: 1234.apps.googleusercontent.com',
      '    client_secret_env: GOOGLE_CLIENT_SECRET',
      '    hosted_domain: example.com',
      '    allow_signup: true',
    ].join('\n'));
    const server = await startServer({ embedded: true, noWait: true, env: { GATEHOUSE_PROVIDERS_FILE: file, GOOGLE_CLIENT_SECRET: 'google-from-env' } });
    try {
      await readyOnABusyMachine(server);
      const [google] = await server.cliJson(['providers', 'list']);
      expect(google).toMatchObject({ name: 'google', source: 'file', hosted_domain: 'example.com', allow_signup: true, has_client_secret: true });
      expect(await server.settledLog(/providers file applied/)).toMatch(/providers file applied/);
      expect(server.log()).not.toContain('google-from-env');
      // a restart with the same file changes nothing
      await server.restart().catch(() => readyOnABusyMachine(server));
      expect((await server.cliJson(['providers', 'list']))[0].updated_at).toBe(google.updated_at);
    } finally {
      await server.destroy();
    }

    writeFileSync(file, 'providers:\n  - { name: google, preset: google, client_id: x, client_secret: in-the-file }\n');
    const refused = await startServer({ embedded: true, noWait: true, env: { GATEHOUSE_PROVIDERS_FILE: file } });
    try {
      expect(await refused.exited()).not.toBe(0);
      expect(refused.log()).toMatch(/client_secret_env/);
    } finally {
      await refused.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
