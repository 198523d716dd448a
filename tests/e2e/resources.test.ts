// Resources (APIs) end to end, on real Postgres and Redis with openid-client as the app: the CLI
// (create, list, show, update, remove and its refusals), the admin API with its audit events, and
// the JWT access tokens — the claims a resource asks for, only those granted by scope, the same on
// refresh, a change in the next token, a disabled or removed resource refused (invalid_target),
// its lifetime, and GATEHOUSE_RESOURCES beside the stored ones.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'resources pass phrase 2026';
const ENV_API = 'https://env-api.example.test';
const SCOPES = 'openid profile email roles workspace workspaces offline_access admin';
/** Every `gatehouse` command loads the server's code: a few seconds each on a busy machine. */
const CLI_TIMEOUT_MS = 180_000;

let gh: TestServer;
let app: { client_id: string; client_secret: string };
let cfg: oidc.Configuration;
let adminToken: string;
let user: { id: string; email: string };
let seq = 0;

const api = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}/api/admin${path}`, {
  ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
});
const json = async (r: Response) => ({ status: r.status, body: r.status === 204 ? undefined : await r.json() as any });
const login = (scope: string, resource?: string, email = user.email) => signIn(cfg, {
  issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT,
  email, password: PASSWORD, scope, extra: resource ? { resource } : {},
});
const audience = () => `https://api${seq++}-${Date.now().toString(36)}.example.test`;
async function claimsOf(token: string, aud: string): Promise<JWTPayload & Record<string, unknown>> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${gh.issuer}/jwks`)), { issuer: gh.issuer, audience: aud, typ: 'at+jwt', algorithms: ['RS256'] });
  return payload as JWTPayload & Record<string, unknown>;
}
const create = (args: string[]) => gh.cliJson(['resources', 'create', ...args]);

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_RESOURCES: ENV_API } });
  app = await gh.cliJson(['clients', 'create', '--name', 'Orders app', '--redirect-uri', REDIRECT, '--scopes', SCOPES]);
  cfg = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
  user = await gh.cliJson(['users', 'create', '--email', 'ada@example.test', '--password', PASSWORD, '--name', 'Ada Lovelace', '--admin', '--verified']);
  await gh.cliJson(['workspaces', 'create', '--slug', 'acme', '--name', 'Acme', '--owner', user.email]);
  adminToken = (await login('openid admin')).tokens.access_token;
}, CLI_TIMEOUT_MS);
afterAll(async () => { await gh?.destroy(); });

describe('the CLI', () => {
  it('creates, lists, shows, updates and removes a resource', async () => {
    const aud = audience();
    const created = await create(['--audience', aud, '--name', 'Orders API', '--claims', 'email,name,roles', '--scopes', 'orders:read orders:write', '--ttl', '600']);
    expect(created).toMatchObject({ audience: aud, name: 'Orders API', claims: ['email', 'name', 'roles'], scopes: ['orders:read', 'orders:write'], ttl: 600, effective_ttl: 600, enabled: true, source: 'cli' });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await gh.cliJson(['resources', 'list']);
    expect(listed.map((r: { audience: string }) => r.audience)).toEqual(expect.arrayContaining([aud, ENV_API]));
    expect(listed.find((r: { audience: string }) => r.audience === ENV_API)).toMatchObject({ id: null, source: 'env', scopes: ['read', 'write'], claims: [] });

    expect(await gh.cliJson(['resources', 'show', aud])).toMatchObject({ id: created.id, name: 'Orders API' });
    expect(await gh.cliJson(['resources', 'show', created.id])).toMatchObject({ audience: aud });

    const updated = await gh.cliJson(['resources', 'update', aud, '--claims', 'email', '--ttl', 'default', '--disable']);
    expect(updated).toMatchObject({ claims: ['email'], scopes: ['orders:read', 'orders:write'], ttl: null, effective_ttl: 3600, enabled: false, name: 'Orders API' });

    const human = await gh.cli(['resources', 'show', aud]);
    expect(human.stdout).toContain('disabled');

    expect(await gh.cliJson(['resources', 'remove', aud])).toMatchObject({ audience: aud, deleted: created.id });
    const gone = await gh.cli(['resources', 'show', aud]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain(`no resource "${aud}"`);
  }, CLI_TIMEOUT_MS);

  it('refuses what is not a resource, each with a sentence that says why', async () => {
    // each rule's cases in full: tests/unit/resource-schema.test.ts; here, that the CLI says them
    const cases: Array<[string[], RegExp]> = [
      [['--audience', 'https://api.example.test/#frag'], /fragment/],
      [['--audience', 'http://api.example.test'], /https/],
      [['--audience', audience(), '--claims', 'email,password'], /claims must be among/],
      [['--audience', audience(), '--scopes', 'read email'], /"email" is a Gatehouse scope/],
      [['--audience', audience(), '--ttl', '7200'], /at most GATEHOUSE_ACCESS_TOKEN_TTL \(3600/],
      [['--audience', ENV_API], /GATEHOUSE_RESOURCES/],
    ];
    for (const [args, message] of cases) {
      const r = await gh.cli(['resources', 'create', ...args, '--json']);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
    // loopback http is a developer's API: allowed outside production
    expect((await create(['--audience', `http://localhost:${4000 + seq++}`])).source).toBe('cli');

    const aud = audience();
    await create(['--audience', aud]);
    const again = await gh.cli(['resources', 'create', '--audience', aud, '--json']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');

    const envChange = await gh.cli(['resources', 'update', ENV_API, '--claims', 'email']);
    expect(envChange.code).toBe(2);
    expect(envChange.stderr).toMatch(/defined by GATEHOUSE_RESOURCES and cannot be changed here/);
    expect((await gh.cli(['resources', 'remove', ENV_API])).stderr).toMatch(/GATEHOUSE_RESOURCES/);
    expect((await gh.cli(['resources', 'update', 'https://nothing.example.test', '--name', 'x'])).code).toBe(4);
  }, CLI_TIMEOUT_MS);
});

describe('the admin API', () => {
  it('creates, reads, changes and removes, each change audited', async () => {
    const aud = audience();
    const created = await json(await api('/resources', adminToken, { method: 'POST', body: JSON.stringify({ audience: aud, name: 'Billing', claims: ['email'], scopes: ['invoices:read'] }) }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ audience: aud, claims: ['email'], scopes: ['invoices:read'], source: 'api' });
    const id = created.body.id as string;

    expect((await json(await api(`/resources/${id}`, adminToken))).body.audience).toBe(aud);
    expect((await json(await api(`/resources/${encodeURIComponent(aud)}`, adminToken))).body.id).toBe(id);
    const listed = await json(await api('/resources', adminToken));
    expect(listed.body.some((r: { id: string }) => r.id === id)).toBe(true);

    const patched = await json(await api(`/resources/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ claims: ['email', 'roles'], ttl: 300 }) }));
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ claims: ['email', 'roles'], ttl: 300, scopes: ['invoices:read'] });

    for (const [body, message] of [
      [{ audience: aud.replace('https', 'http') }, /https/], [{ audience: audience(), extra: 1 }, /unknown field: extra/],
      [{ audience: audience(), claims: ['ssn'] }, /claims must be among/], [[1, 2], /JSON object/],
    ] as const) {
      const r = await json(await api('/resources', adminToken, { method: 'POST', body: JSON.stringify(body) }));
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(message);
    }
    const bad = await json(await api(`/resources/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ audience: 'https://x.example.test' }) }));
    expect(bad.status).toBe(400);
    const env = await json(await api(`/resources/${encodeURIComponent(ENV_API)}`, adminToken, { method: 'PATCH', body: JSON.stringify({ name: 'x' }) }));
    expect(env).toMatchObject({ status: 409, body: { error: 'env_resource' } });

    expect((await api(`/resources/${id}`, adminToken, { method: 'DELETE' })).status).toBe(204);
    expect((await json(await api(`/resources/${id}`, adminToken))).status).toBe(404);

    const audit = await json(await api(`/audit?subject=${id}`, adminToken));
    const types = audit.body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(['resource.deleted', 'resource.updated', 'resource.created']);
    expect(audit.body.events[0]).toMatchObject({ actor_id: user.id, data: { audience: aud } });
    expect(audit.body.events[1].data).toMatchObject({ fields: ['claims', 'ttl'] });
  });

  it('is for administrators with the admin scope only', async () => {
    expect((await api('/resources', undefined)).status).toBe(401);
    const narrow = (await login('openid')).tokens.access_token;
    expect((await json(await api('/resources', narrow))).body.error).toBe('insufficient_scope');
  });

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/admin/resources']!)).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/admin/resources/{ref}']!)).toEqual(['get', 'patch', 'delete']);
  });
});

describe('access tokens for a resource', () => {
  let aud: string;
  beforeAll(async () => {
    aud = audience();
    await create(['--audience', aud, '--claims', 'email,email_verified,name,roles,workspaces', '--scopes', 'orders:read', '--ttl', '600']);
  }, CLI_TIMEOUT_MS);

  it('carry the claims the resource asks for that the user granted, and the workspace claims', async () => {
    const { tokens } = await login('openid email profile roles workspace workspaces orders:read offline_access', aud);
    const c = await claimsOf(tokens.access_token, aud);
    expect(c).toMatchObject({ sub: user.id, email: 'ada@example.test', email_verified: true, name: 'Ada Lovelace', roles: ['admin'], workspace_slug: 'acme', workspace_role: 'owner' });
    expect(c.workspaces).toEqual([expect.objectContaining({ slug: 'acme', role: 'owner' })]);
    expect(String(c.scope).split(' ').sort()).toEqual(['email', 'orders:read', 'profile', 'roles', 'workspace', 'workspaces']);
    expect(c.exp! - c.iat!).toBe(600);
    // never what it did not ask for: given_name, picture, locale, updated_at
    expect(c).not.toHaveProperty('updated_at');
    expect(c).not.toHaveProperty('given_name');
  });

  it('leave out every claim whose scope the user did not grant', async () => {
    const none = await claimsOf((await login('openid offline_access', aud)).tokens.access_token, aud);
    for (const claim of ['email', 'email_verified', 'name', 'roles', 'workspaces', 'workspace_id']) expect(none).not.toHaveProperty(claim);
    expect(none.sub).toBe(user.id);

    const emailOnly = await claimsOf((await login('openid email offline_access', aud)).tokens.access_token, aud);
    expect(emailOnly.email).toBe('ada@example.test');
    for (const claim of ['name', 'roles', 'workspaces']) expect(emailOnly).not.toHaveProperty(claim);

    const profileOnly = await claimsOf((await login('openid profile offline_access', aud)).tokens.access_token, aud);
    expect(profileOnly.name).toBe('Ada Lovelace');
    for (const claim of ['email', 'email_verified', 'roles']) expect(profileOnly).not.toHaveProperty(claim);
  });

  it('keep them on refresh; a change to the resource shows in the next token; disabled or removed: invalid_target', async () => {
    const own = audience();
    await create(['--audience', own, '--claims', 'email,name']);
    const { tokens } = await login('openid email profile offline_access', own);
    expect(await claimsOf(tokens.access_token, own)).toMatchObject({ email: 'ada@example.test', name: 'Ada Lovelace' });

    const first = await oidc.refreshTokenGrant(cfg, tokens.refresh_token!, { resource: own });
    expect(await claimsOf(first.access_token, own)).toMatchObject({ email: 'ada@example.test', name: 'Ada Lovelace' });

    await gh.cliJson(['resources', 'update', own, '--claims', 'email', '--ttl', '120']);
    const second = await oidc.refreshTokenGrant(cfg, first.refresh_token!, { resource: own });
    const after = await claimsOf(second.access_token, own);
    expect(after.email).toBe('ada@example.test');
    expect(after).not.toHaveProperty('name');
    expect(after.exp! - after.iat!).toBe(120);

    await gh.cliJson(['resources', 'update', own, '--disable']);
    await expect(oidc.refreshTokenGrant(cfg, second.refresh_token!, { resource: own })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(login('openid email', own)).rejects.toMatchObject({ error: 'invalid_target' });

    await gh.cliJson(['resources', 'update', own, '--enable']);
    const third = await oidc.refreshTokenGrant(cfg, second.refresh_token!, { resource: own });
    expect((await claimsOf(third.access_token, own)).email).toBe('ada@example.test');

    await gh.cliJson(['resources', 'remove', own]);
    await expect(oidc.refreshTokenGrant(cfg, third.refresh_token!, { resource: own })).rejects.toMatchObject({ error: 'invalid_target' });
  }, CLI_TIMEOUT_MS);

  it('for a GATEHOUSE_RESOURCES audience carry the workspace claims as before, and no user claims', async () => {
    const { tokens } = await login('openid email profile workspace offline_access', ENV_API);
    const c = await claimsOf(tokens.access_token, ENV_API);
    expect(c.workspace_slug).toBe('acme');
    expect(c).not.toHaveProperty('email');
    expect(c).not.toHaveProperty('name');
  });

  it('an unknown audience is invalid_target; userinfo tokens stay opaque and carry nothing new', async () => {
    await expect(login('openid email', 'https://unknown.example.test')).rejects.toMatchObject({ error: 'invalid_target' });
    const { tokens } = await login('openid email offline_access');
    expect(tokens.access_token.split('.')).toHaveLength(1);
  });
});
