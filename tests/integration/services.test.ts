// The services behind the CLI, the server's boot and the hosted pages, on a real PostgreSQL
// database, wired exactly as the server wires them (src/root.ts: createRoot).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { postgresRoot, type Root } from '../support/root.ts';
import { AppError } from '../../src/errors/app-error.ts';
import { SIGNING_ALGS } from '../../src/keys/key.service.ts';
import { requireReal } from '../support/env.ts';
import { argon2Params, OWASP_ARGON2, tempDir } from '../support/stores.ts';

requireReal();

const PASSWORD = 'correct horse battery staple';
const CONCURRENT = 3;

let store: Awaited<ReturnType<typeof postgresRoot>>;
let c: Root;

beforeAll(async () => {
  store = await postgresRoot();
  c = store.root;
});
afterAll(async () => {
  await store?.dispose();
});

let seq = 0;
const email = (label: string) => `${label}-${Date.now().toString(36)}-${seq++}@example.com`;

/** The AppError a promise rejects with (fails the test if it resolves or throws anything else). */
async function appError(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const usersWith = async (normalized: string) => c.db.knex('users').where({ email_normalized: normalized });

describe('accounts', () => {
  it('create stores an argon2id hash with the OWASP parameters and no plaintext', async () => {
    const user = await c.accounts.create({ email: email('create'), password: PASSWORD, name: '  Ada  ' });
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(user.name).toBe('Ada');
    expect(user.roles).toEqual([]);
    expect(user.email_verified).toBe(false);
    expect(argon2Params(user.password_hash!)).toEqual(OWASP_ARGON2);
    expect(user.password_hash).not.toContain(PASSWORD);
  });

  it('refuses an invalid email and a weak password with a 400', async () => {
    const bad = await appError(c.accounts.create({ email: 'not-an-email', password: PASSWORD }));
    expect([bad.status, bad.code]).toEqual([400, 'invalid_email']);
    const weak = await appError(c.accounts.create({ email: email('weak'), password: 'short' }));
    expect([weak.status, weak.code]).toEqual([400, 'weak_password']);
  });

  it('an email differing only by case or surrounding space is taken (409 email_taken)', async () => {
    const base = email('dup');
    await c.accounts.create({ email: base, password: PASSWORD });
    for (const variant of [base.toUpperCase(), `  ${base.replace(/^./, (ch) => ch.toUpperCase())} `]) {
      const err = await appError(c.accounts.create({ email: variant, password: PASSWORD }));
      expect([err.status, err.code]).toEqual([409, 'email_taken']);
    }
    expect(await usersWith(base)).toHaveLength(1);
  });

  it('an email differing by Unicode compatibility form (NFKC) is the same account', async () => {
    const local = `nfkc${seq++}${Date.now().toString(36)}`;
    const ascii = `${local}@example.com`;
    // fullwidth letters and at sign: NFKC folds them to ASCII
    const fullwidth = [...ascii].map((ch) => (ch >= '!' && ch <= '~' ? String.fromCodePoint(ch.codePointAt(0)! + 0xfee0) : ch)).join('');
    expect(fullwidth.normalize('NFKC')).toBe(ascii);
    const user = await c.accounts.create({ email: ascii, password: PASSWORD });

    // create() never makes a second account for it (it refuses the non-ASCII form outright)
    const err = await appError(c.accounts.create({ email: fullwidth, password: PASSWORD }));
    expect([400, 409]).toContain(err.status);
    // sign-up after an emailed code (createWithHash) reports it taken
    expect(await c.accounts.createWithHash({ email: fullwidth, name: 'x', passwordHash: user.password_hash! })).toBeUndefined();
    expect(await usersWith(ascii)).toHaveLength(1);
    // and signing in with the other form finds the account
    expect((await c.accounts.authenticate(fullwidth, PASSWORD))?.id).toBe(user.id);
  });

  it('parallel sign-ups with one email: one account, the other gets 409', async () => {
    const e = email('race');
    const results = await Promise.allSettled([e, e.toUpperCase()].map((x) => c.accounts.create({ email: x, password: PASSWORD })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [lost] = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost!.reason).toBeInstanceOf(AppError);
    expect([lost!.reason.status, lost!.reason.code]).toEqual([409, 'email_taken']);
  });

  it('authenticate: right password yes; wrong password, unknown email, disabled account no', async () => {
    const e = email('auth');
    const user = await c.accounts.create({ email: e, password: PASSWORD });
    expect((await c.accounts.authenticate(e.toUpperCase(), PASSWORD))?.id).toBe(user.id);
    expect(await c.accounts.authenticate(e, `${PASSWORD}!`)).toBeUndefined();
    expect(await c.accounts.authenticate(email('nobody'), PASSWORD)).toBeUndefined();
    await c.db.knex('users').where({ id: user.id }).update({ disabled_at: c.db.knex.fn.now() });
    expect(await c.accounts.authenticate(e, PASSWORD)).toBeUndefined();
    expect(await c.accounts.findActive(user.id)).toBeUndefined();
  });

  it('an account without a password never authenticates', async () => {
    const e = email('nopw');
    await c.accounts.create({ email: e });
    expect(await c.accounts.authenticate(e, '')).toBeUndefined();
    expect(await c.accounts.authenticate(e, PASSWORD)).toBeUndefined();
  });

  it('a hash made with weaker argon2 parameters is re-hashed at the next sign-in', async () => {
    const e = email('rehash');
    const user = await c.accounts.create({ email: e, password: PASSWORD });
    const weak = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await c.db.knex('users').where({ id: user.id }).update({ password_hash: weak });

    expect((await c.accounts.authenticate(e, PASSWORD))?.id).toBe(user.id);
    const { password_hash: after } = await c.db.knex('users').where({ id: user.id }).first();
    expect(after).not.toBe(weak);
    expect(argon2Params(after)).toEqual(OWASP_ARGON2);
    expect((await c.accounts.authenticate(e, PASSWORD))?.id).toBe(user.id);
  });

  it('a wrong password does not re-hash', async () => {
    const e = email('norehash');
    const user = await c.accounts.create({ email: e, password: PASSWORD });
    const weak = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await c.db.knex('users').where({ id: user.id }).update({ password_hash: weak });
    expect(await c.accounts.authenticate(e, 'wrong password here')).toBeUndefined();
    expect((await c.db.knex('users').where({ id: user.id }).first()).password_hash).toBe(weak);
  });

  describe('ensureAdmin', () => {
    it('creates the admin once (verified, with the admin role) and never duplicates', async () => {
      const e = email('admin');
      const first = await c.accounts.ensureAdmin(e, PASSWORD);
      expect(first.roles).toEqual(['admin']);
      expect(first.email_verified).toBe(true);
      const again = await c.accounts.ensureAdmin(e.toUpperCase(), PASSWORD);
      expect(again.id).toBe(first.id);
      expect(await usersWith(e)).toHaveLength(1);
      expect((await c.accounts.authenticate(e, PASSWORD))?.id).toBe(first.id);
    });

    it('promotes an existing user, keeping their other roles and password', async () => {
      const e = email('promote');
      const user = await c.accounts.create({ email: e, password: PASSWORD, roles: ['support'] });
      const promoted = await c.accounts.ensureAdmin(e, 'another password entirely');
      expect(promoted.id).toBe(user.id);
      expect(promoted.roles).toEqual(['support', 'admin']);
      const again = await c.accounts.ensureAdmin(e, PASSWORD);
      expect(again.roles).toEqual(['support', 'admin']);
      expect((await c.accounts.authenticate(e, PASSWORD))?.id).toBe(user.id);
    });

    it('three nodes booting at once create one admin', async () => {
      const e = email('boot');
      const results = await Promise.all(Array.from({ length: CONCURRENT }, () => c.accounts.ensureAdmin(e, PASSWORD)));
      expect(new Set(results.map((u) => u.id)).size).toBe(1);
      expect(await usersWith(e)).toHaveLength(1);
    });

    it('three nodes booting at once promote an existing user once', async () => {
      const e = email('bootpromote');
      const user = await c.accounts.create({ email: e, password: PASSWORD });
      await Promise.all(Array.from({ length: CONCURRENT }, () => c.accounts.ensureAdmin(e, PASSWORD)));
      const row = await c.db.knex('users').where({ id: user.id }).first();
      expect(row.roles).toEqual(['admin']);
      expect(await usersWith(e)).toHaveLength(1);
    });
  });
});

describe('clients', () => {
  const web = (name = 'Web app') => ({ name, redirect_uris: ['https://app.example.com/cb'] });

  it('a confidential client gets a secret once; the database holds it sealed, never in clear', async () => {
    const created = await c.clients.create(web());
    expect(created.client_secret).toEqual(expect.any(String));
    expect(created.client_secret!.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    expect(created.token_endpoint_auth_method).toBe('client_secret_basic');

    const row = await c.db.knex('clients').where({ client_id: created.client_id }).first();
    expect(row.client_secret_encrypted).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(created.client_secret!);
    expect(await c.clients.providerMetadata(created.client_id)).toMatchObject({
      client_id: created.client_id, client_secret: created.client_secret, redirect_uris: ['https://app.example.com/cb'],
    });
    expect(JSON.stringify(await c.clients.show(created.client_id))).not.toContain(created.client_secret!);
  });

  it('a public client has no secret', async () => {
    const created = await c.clients.create({ ...web('SPA'), public: true });
    expect(created).not.toHaveProperty('client_secret');
    expect(created.token_endpoint_auth_method).toBe('none');
    const row = await c.db.knex('clients').where({ client_id: created.client_id }).first();
    expect(row.client_secret_encrypted).toBeNull();
    expect(await c.clients.providerMetadata(created.client_id)).not.toHaveProperty('client_secret');
    expect((await appError(c.clients.rotateSecret(created.client_id))).status).toBe(400);
  });

  it('refuses an invalid redirect URI with a 400', async () => {
    for (const uri of ['http://app.example.com/cb', 'javascript:alert(1)', 'https://app.example.com/cb#x']) {
      const err = await appError(c.clients.create({ name: 'bad', redirect_uris: [uri] }));
      expect(err.status).toBe(400);
      expect(err.code).toBe('invalid_client_metadata');
    }
  });

  it('refuses a second client with the same client_id (409)', async () => {
    const clientId = `dup-${seq++}-${Date.now()}`;
    await c.clients.create({ ...web(), client_id: clientId });
    expect((await appError(c.clients.create({ ...web(), client_id: clientId }))).status).toBe(409);
  });

  it('list, show and delete', async () => {
    const a = await c.clients.create(web('List A'));
    const b = await c.clients.create({ ...web('List B'), public: true });
    const ids = (await c.clients.list()).map((x) => x.client_id);
    expect(ids).toEqual(expect.arrayContaining([a.client_id, b.client_id]));
    expect(await c.clients.show(a.client_id)).toMatchObject({ client_id: a.client_id, client_name: 'List A' });

    await c.clients.delete(a.client_id);
    expect((await appError(c.clients.show(a.client_id))).status).toBe(404);
    expect((await appError(c.clients.delete(a.client_id))).status).toBe(404);
    expect((await c.clients.list()).map((x) => x.client_id)).not.toContain(a.client_id);
    expect(await c.clients.providerMetadata(a.client_id)).toBeUndefined();
  });

  it('rotateSecret issues a new secret and the old one stops being the secret', async () => {
    const created = await c.clients.create(web());
    const rotated = await c.clients.rotateSecret(created.client_id);
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect((await c.clients.providerMetadata(created.client_id))?.client_secret).toBe(rotated.client_secret);
    expect((await appError(c.clients.rotateSecret('no-such-client'))).status).toBe(404);
  });

  describe('applyFile', () => {
    const files = tempDir('gh-clients-');
    afterAll(() => files.remove());
    const SECRET = 's'.repeat(20) + 'from-the-environment-123';
    const env = { GH_TEST_CLIENT_SECRET: SECRET };

    async function idsInDb(ids: string[]) {
      return (await c.db.knex('clients').whereIn('client_id', ids).select('client_id', 'source')).map((r) => r.client_id).sort();
    }

    it('applies a JSON list twice with the same result, interpolating ${ENV}', async () => {
      const tag = `${seq++}-${Date.now()}`;
      const path = join(files.path, 'clients.json');
      writeFileSync(path, JSON.stringify([
        { client_id: `json-web-${tag}`, client_secret: '${GH_TEST_CLIENT_SECRET}', name: 'JSON web', redirect_uris: ['https://a.example.com/cb'] },
        { client_id: `json-cli-${tag}`, public: true, name: 'JSON cli', grant_types: ['device_code', 'refresh_token'] },
      ]));
      const ids = [`json-web-${tag}`, `json-cli-${tag}`];
      expect(await c.clients.applyFile(path, env)).toEqual(ids);
      expect(await c.clients.applyFile(path, env)).toEqual(ids);
      expect(await idsInDb(ids)).toEqual([...ids].sort());
      const meta = await c.clients.providerMetadata(ids[0]!);
      expect(meta).toMatchObject({ client_secret: SECRET, client_name: 'JSON web', token_endpoint_auth_method: 'client_secret_basic' });
      const row = await c.db.knex('clients').where({ client_id: ids[0] }).first();
      expect(row.source).toBe('file');
      expect(JSON.stringify(row)).not.toContain(SECRET);
      expect(await c.clients.providerMetadata(ids[1]!)).toMatchObject({
        token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      });
    });

    it('applies a YAML { clients: [...] } file twice; an edit is applied, nothing is duplicated', async () => {
      const tag = `${seq++}-${Date.now()}`;
      const path = join(files.path, 'clients.yaml');
      const yaml = (name: string) => `clients:
  - client_id: yaml-web-${tag}
    client_secret: \${GH_TEST_CLIENT_SECRET}
    name: ${name}
    redirect_uris:
      - https://y.example.com/cb
    scopes: [openid, profile]
`;
      writeFileSync(path, yaml('YAML web'));
      expect(await c.clients.applyFile(path, env)).toEqual([`yaml-web-${tag}`]);
      writeFileSync(path, yaml('YAML web renamed'));
      expect(await c.clients.applyFile(path, env)).toEqual([`yaml-web-${tag}`]);
      expect(await idsInDb([`yaml-web-${tag}`])).toHaveLength(1);
      expect(await c.clients.show(`yaml-web-${tag}`)).toMatchObject({ client_name: 'YAML web renamed', scope: 'openid profile' });
      expect((await c.clients.providerMetadata(`yaml-web-${tag}`))?.client_secret).toBe(SECRET);
    });

    it('a bad entry applies nothing, and says which entry', async () => {
      const tag = `${seq++}-${Date.now()}`;
      const path = join(files.path, 'bad.json');
      const good = { client_id: `good-${tag}`, public: true, name: 'Good', redirect_uris: ['https://g.example.com/cb'] };
      writeFileSync(path, JSON.stringify([good, { client_id: `bad-${tag}`, public: true, name: 'Bad', redirect_uris: ['http://evil.example.com/cb'] }]));
      const err = await appError(c.clients.applyFile(path, env));
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/entry 2/);
      expect(await idsInDb([`good-${tag}`, `bad-${tag}`])).toEqual([]);

      writeFileSync(path, JSON.stringify([good, { client_id: `nosecret-${tag}`, name: 'No secret', redirect_uris: ['https://g.example.com/cb'] }]));
      expect((await appError(c.clients.applyFile(path, env))).message).toMatch(/entry 2.*client_secret/);
      expect(await idsInDb([`good-${tag}`])).toEqual([]);
    });

    it('an unset ${ENV} or a missing file is a 400 that applies nothing', async () => {
      const tag = `${seq++}-${Date.now()}`;
      const path = join(files.path, 'unset.yaml');
      writeFileSync(path, `- client_id: unset-${tag}\n  client_secret: \${GH_TEST_UNSET_VARIABLE}\n  name: Unset\n  redirect_uris: [https://u.example.com/cb]\n`);
      const err = await appError(c.clients.applyFile(path, {}));
      expect(err.status).toBe(400);
      expect(err.message).toContain('GH_TEST_UNSET_VARIABLE');
      expect(await idsInDb([`unset-${tag}`])).toEqual([]);
      expect((await appError(c.clients.applyFile(join(files.path, 'missing.yaml'), env))).status).toBe(400);
    });
  });
});

describe('signing keys', () => {
  const activeByAlg = async () => {
    const active = (await c.keys.list()).filter((k) => k.status === 'active');
    return { RS256: active.filter((k) => k.alg === 'RS256'), ES256: active.filter((k) => k.alg === 'ES256') };
  };
  /** kids in the provider's JWKS order, per algorithm */
  const jwksOrder = async () => {
    const { keys } = await c.keys.providerJwks();
    const by: Record<string, string[]> = {};
    for (const k of keys as Array<{ kid: string; alg: string }>) (by[k.alg] ??= []).push(k.kid);
    return by;
  };

  it('ensureKeys on three nodes at once: exactly one active RS256 and one ES256 key', async () => {
    await Promise.all(Array.from({ length: CONCURRENT }, () => c.keys.ensureKeys()));
    await c.keys.ensureKeys();
    const active = await activeByAlg();
    expect(active.RS256).toHaveLength(1);
    expect(active.ES256).toHaveLength(1);
    expect(await c.keys.list()).toHaveLength(2);

    const { keys } = await c.keys.providerJwks();
    expect(keys).toHaveLength(2);
    for (const k of keys as Array<Record<string, unknown>>) expect(k).toMatchObject({ use: 'sig', d: expect.any(String) });
    const sealed = await c.db.knex('signing_keys').select('private_jwk_encrypted', 'public_jwk');
    for (const row of sealed) {
      expect(row.private_jwk_encrypted).toMatch(/^v1\./);
      expect(row.public_jwk).not.toHaveProperty('d');
    }
  });

  const maxLifetimeMs = () => Math.max(c.config.ttl.accessToken, c.config.ttl.idToken) * 1000;
  const byKid = async (now?: Date) => new Map((await c.keys.list(now)).map((k) => [k.kid, k]));

  it('rotate publishes new keys at once and signs with them only after the activation delay', async () => {
    const before = await activeByAlg();
    const oldKids = [before.RS256[0]!.kid, before.ES256[0]!.kid];
    const fingerprint = await c.keys.fingerprint();
    const started = Date.now();

    const { kids: [newRs, newEs], activatesAt } = await c.keys.rotate();

    const delayMs = c.config.keyActivationDelaySeconds * 1000;
    expect(activatesAt.getTime()).toBeGreaterThanOrEqual(started + delayMs);
    expect(activatesAt.getTime()).toBeLessThanOrEqual(Date.now() + delayMs);
    // published (in the provider's key set) but the old keys still sign: they come first
    expect(await jwksOrder()).toEqual({ RS256: [oldKids[0], newRs], ES256: [oldKids[1], newEs] });
    const list = await byKid();
    for (const kid of [newRs!, newEs!]) expect(list.get(kid)).toMatchObject({ status: 'pending', activatesAt, retiredAt: null, expiresAt: null });
    const slackMs = (c.config.keyRefreshSeconds * 1000) + maxLifetimeMs(); // late nodes sign a refresh longer
    for (const kid of oldKids) {
      expect(list.get(kid)).toMatchObject({ status: 'active', retiredAt: activatesAt });
      expect(new Date(list.get(kid)!.expiresAt!).getTime()).toBe(activatesAt.getTime() + slackMs);
    }
    expect(await c.keys.fingerprint()).not.toBe(fingerprint);

    // once the activation time has passed, with no write: the new keys sign, the old stay published
    const later = new Date(activatesAt.getTime() + 1000);
    const { keys } = await c.keys.providerJwks(later);
    expect((keys as Array<{ kid: string }>).map((k) => k.kid)).toEqual(expect.arrayContaining([...oldKids, newRs, newEs]));
    expect((keys as Array<{ kid: string; alg: string }>).filter((k) => k.alg === 'RS256')[0]!.kid).toBe(newRs);
    expect((keys as Array<{ kid: string; alg: string }>).filter((k) => k.alg === 'ES256')[0]!.kid).toBe(newEs);
    const then = await byKid(later);
    expect([then.get(newRs!)!.status, then.get(newEs!)!.status, then.get(oldKids[0]!)!.status]).toEqual(['active', 'active', 'retired']);
    // the host's change check notices the passage of time alone
    expect(await c.keys.fingerprint(later)).not.toBe(await c.keys.fingerprint());
  });

  it('refuses an activation delay within the refresh interval, negative or fractional', async () => {
    for (const bad of [1, c.config.keyRefreshSeconds, -1, 1.5]) {
      expect((await appError(c.keys.rotate(['RS256'], { activateInSeconds: bad }))).status).toBe(400);
    }
  });

  it('rotate with immediate activation signs at once and drops the pending key of the earlier rotation', async () => {
    const pendingKids = (await c.keys.list()).filter((k) => k.status === 'pending').map((k) => k.kid);
    expect(pendingKids).toHaveLength(2);
    const signers = (await activeByAlg());
    const started = Date.now();
    const { kids: [newRs, newEs], activatesAt } = await c.keys.rotate(SIGNING_ALGS, { activateInSeconds: 0 });
    expect(activatesAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await jwksOrder()).toEqual({ RS256: [newRs, signers.RS256[0]!.kid], ES256: [newEs, signers.ES256[0]!.kid] });
    const list = await byKid();
    for (const kid of pendingKids) expect(list.has(kid)).toBe(false);
    for (const old of [signers.RS256[0]!, signers.ES256[0]!]) {
      expect(list.get(old.kid)!.status).toBe('retired');
      expect(new Date(list.get(old.kid)!.expiresAt!).getTime()).toBeGreaterThanOrEqual(started + maxLifetimeMs());
    }
    expect((await activeByAlg()).RS256.map((k) => k.kid)).toEqual([newRs]);
  });

  it('revoke withdraws a retired or pending key at once and refuses the key that signs now', async () => {
    const signer = (await activeByAlg()).ES256[0]!;
    const refused = await appError(c.keys.revoke(signer.kid));
    expect([refused.status, refused.code]).toEqual([409, 'last_signing_key']);
    expect(refused.message).toMatch(/--now/);
    expect((await appError(c.keys.revoke('no-such-kid'))).status).toBe(404);

    const retired = (await c.keys.list()).find((k) => k.status === 'retired' && k.alg === 'ES256')!;
    const fingerprint = await c.keys.fingerprint();
    expect(await c.keys.revoke(retired.kid)).toMatchObject({ kid: retired.kid, status: 'retired' });
    expect((await jwksOrder()).ES256).not.toContain(retired.kid);
    expect(await c.keys.fingerprint()).not.toBe(fingerprint);

    // a pending key withdrawn: the current signer keeps signing, with no retirement scheduled
    const { kids: [pendingEs] } = await c.keys.rotate(['ES256']);
    expect((await byKid()).get(signer.kid)!.retiredAt).not.toBeNull();
    expect(await c.keys.revoke(pendingEs!)).toMatchObject({ status: 'pending' });
    const after = await byKid(new Date(Date.now() + 2 * c.config.keyActivationDelaySeconds * 1000));
    expect(after.get(signer.kid)).toMatchObject({ status: 'active', retiredAt: null, expiresAt: null });
    expect(after.has(pendingEs!)).toBe(false);
  });

  it('ensureKeys after a rotation adds nothing; an expired retired key leaves the JWKS', async () => {
    const count = (await c.keys.list()).length;
    await c.keys.ensureKeys();
    expect(await c.keys.list()).toHaveLength(count);

    const later = new Date(Date.now() + 2 * Math.max(c.config.ttl.accessToken, c.config.ttl.idToken) * 1000);
    const { keys } = await c.keys.providerJwks(later);
    expect(keys).toHaveLength(2); // only the active pair once the retired keys have expired
  });

  it('rotate on a database no server has booted on first creates the keys to rotate from', async () => {
    await c.db.knex('signing_keys').delete();
    const { kids: [pendingRs] } = await c.keys.rotate(['RS256']);
    const active = await activeByAlg();
    expect([active.RS256.length, active.ES256.length]).toEqual([1, 1]);
    expect((await byKid()).get(pendingRs!)!.status).toBe('pending');
    expect((await jwksOrder()).RS256).toEqual([active.RS256[0]!.kid, pendingRs]);
  });
});
