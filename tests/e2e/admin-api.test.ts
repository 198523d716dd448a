// The admin API: who may call it, every route's behaviour and refusals, impersonation with act.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'admin api pass phrase 1';
let gh: TestServer;
let console_: { client_id: string; client_secret: string };
let cfg: oidc.Configuration;
let adminToken: string;
let admin: { id: string };

const api = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}/api/admin${path}`, {
  ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
});
const json = async (r: Response) => ({ status: r.status, body: r.status === 204 ? undefined : await r.json() as any });
const tokenFor = async (email: string, scope: string) => (await signIn(cfg, { issuer: gh.issuer, clientId: console_.client_id, clientSecret: console_.client_secret, redirectUri: REDIRECT, email, password: PASSWORD, scope })).tokens;

beforeAll(async () => {
  gh = await startServer();
  console_ = await gh.cliJson(['clients', 'create', '--name', 'Ops console', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access admin']);
  admin = await gh.cliJson(['users', 'create', '--email', 'boss@example.test', '--password', PASSWORD, '--admin']);
  await gh.cliJson(['users', 'create', '--email', 'pleb@example.test', '--password', PASSWORD]);
  cfg = await discover({ issuer: gh.issuer, clientId: console_.client_id, clientSecret: console_.client_secret, redirectUri: REDIRECT });
  adminToken = (await tokenFor('boss@example.test', 'openid admin')).access_token;
});
afterAll(async () => { await gh?.destroy(); });

describe('who may call it', () => {
  it('refuses no token, a foreign token, a non-admin, and an admin without the admin scope', async () => {
    expect((await api('/users', undefined)).status).toBe(401);
    expect((await api('/users', 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.x')).status).toBe(401);
    const pleb = await tokenFor('pleb@example.test', 'openid admin');
    const r1 = await json(await api('/users', pleb.access_token));
    expect(r1.status).toBe(403);
    expect(r1.body.error).toBe('not_admin');
    const narrow = await tokenFor('boss@example.test', 'openid');
    const raw = await api('/users', narrow.access_token);
    const r2 = await json(raw);
    expect(r2.status).toBe(403);
    expect(r2.body.error).toBe('insufficient_scope');
    expect(raw.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="admin"');
  });

  it('only clients registered with the admin scope can ask for it', async () => {
    const plain = await gh.cliJson(['clients', 'create', '--name', 'Plain', '--redirect-uri', REDIRECT, '--scopes', 'openid']);
    const pc = await discover({ issuer: gh.issuer, clientId: plain.client_id, clientSecret: plain.client_secret, redirectUri: REDIRECT });
    await expect(signIn(pc, { issuer: gh.issuer, clientId: plain.client_id, clientSecret: plain.client_secret, redirectUri: REDIRECT, email: 'boss@example.test', password: PASSWORD, scope: 'openid admin' }))
      .rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses a revoked admin token', async () => {
    const t = await tokenFor('boss@example.test', 'openid admin');
    await oidc.tokenRevocation(cfg, t.access_token);
    expect((await api('/users', t.access_token)).status).toBe(401);
  });
});

describe('users', () => {
  it('searches and paginates, validating the parameters', async () => {
    const r = await json(await api('/users?query=pleb&limit=1', adminToken));
    expect(r.status).toBe(200);
    expect(r.body.users.map((u: { email: string }) => u.email)).toEqual(['pleb@example.test']);
    for (const bad of ['limit=0', 'limit=abc', 'offset=-1', 'limit=1000']) {
      const b = await json(await api(`/users?${bad}`, adminToken));
      expect(b.status).toBe(400);
      expect(b.body.message).toMatch(/limit|offset/);
    }
  });

  it('creates, updates, disables, enables and deletes, each on the record', async () => {
    const created = await json(await api('/users', adminToken, { method: 'POST', body: JSON.stringify({ email: 'temp@example.test', password: 'several unrelated words', name: 'Temp' }) }));
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await json(await api('/users', adminToken, { method: 'POST', body: JSON.stringify({ email: 'TEMP@example.test' }) }))).status).toBe(409);
    expect((await json(await api(`/users/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ sub: 'x' }) }))).status).toBe(400);
    const patched = await json(await api(`/users/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ name: 'Temporary', mfa_required: true }) }));
    expect(patched.body.name).toBe('Temporary');
    expect((await json(await api(`/users/${id}`, adminToken))).body.mfa_required).toBe(true);
    expect((await json(await api(`/users/${id}/disable`, adminToken, { method: 'POST' }))).body.disabled).toBe(true);
    expect((await json(await api(`/users/${id}/enable`, adminToken, { method: 'POST' }))).body.disabled).toBe(false);
    expect((await json(await api(`/users/${id}/reset-mfa`, adminToken, { method: 'POST' }))).body.ok).toBe(true);
    expect((await json(await api(`/users/${id}/revoke-sessions`, adminToken, { method: 'POST' }))).body.ok).toBe(true);
    expect((await api(`/users/${id}`, adminToken, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/users/${id}`, adminToken)).status).toBe(404);
    expect((await api('/users/not-a-uuid', adminToken)).status).toBe(404);
    const audit = await json(await api(`/audit?subject=${id}&limit=50`, adminToken));
    expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'user.disabled', 'user.enabled', 'mfa.reset', 'session.revoked_all', 'user.deleted']));
    expect(audit.body.events.every((e: { actor_id: string }) => e.actor_id === admin.id)).toBe(true);
  });

  it('disabling a user stops their refresh token and userinfo at once', async () => {
    await gh.cliJson(['users', 'create', '--email', 'victim@example.test', '--password', PASSWORD]);
    const t = await tokenFor('victim@example.test', 'openid offline_access');
    const id = (await gh.cliJson(['users', 'show', 'victim@example.test'])).id;
    await api(`/users/${id}/disable`, adminToken, { method: 'POST' });
    expect((await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${t.access_token}` } })).status).toBe(401);
    await expect(oidc.refreshTokenGrant(cfg, t.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses self-harm: disabling, deleting or demoting yourself', async () => {
    expect((await api(`/users/${admin.id}/disable`, adminToken, { method: 'POST' })).status).toBe(400);
    expect((await api(`/users/${admin.id}`, adminToken, { method: 'DELETE' })).status).toBe(400);
    expect((await api(`/users/${admin.id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ roles: [] }) })).status).toBe(400);
  });
});

describe('impersonation', () => {
  it('mints a short-lived token with act that userinfo, the account API and introspection show', async () => {
    const target = await gh.cliJson(['users', 'show', 'pleb@example.test']);
    const noReason = await json(await api(`/users/${target.id}/token`, adminToken, { method: 'POST', body: JSON.stringify({}) }));
    expect(noReason.status).toBe(400);
    const r = await json(await api(`/users/${target.id}/token`, adminToken, { method: 'POST', body: JSON.stringify({ reason: 'Ticket 4711: cannot see invoices' }) }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual(expect.objectContaining({ token_type: 'Bearer', expires_in: 900 }));
    expect(r.body.refresh_token).toBeUndefined();
    const info = await (await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${r.body.access_token}` } })).json() as { sub: string; act: { sub: string } };
    expect(info.sub).toBe(target.id);
    expect(info.act).toEqual({ sub: admin.id });
    expect((await fetch(`${gh.issuer}/api/me`, { headers: { authorization: `Bearer ${r.body.access_token}` } })).status).toBe(200);
    const intro = await oidc.tokenIntrospection(cfg, r.body.access_token); // a resource server's view
    expect(intro.active).toBe(true);
    expect(intro.sub).toBe(target.id);
    expect(intro.act).toEqual({ sub: admin.id });
    // and it cannot be used for the admin API
    expect((await api('/users', r.body.access_token)).status).toBe(403);
    const audit = await json(await api(`/audit?type=impersonation.token_issued&subject=${target.id}`, adminToken));
    expect(audit.body.events[0].data.reason).toBe('Ticket 4711: cannot see invoices');
    expect(audit.body.events[0].data.token_id).toBeTruthy();
  });

  it('refuses another admin, a disabled user and an unknown one', async () => {
    const other = await gh.cliJson(['users', 'create', '--email', 'boss2@example.test', '--password', PASSWORD, '--admin']);
    expect((await api(`/users/${other.id}/token`, adminToken, { method: 'POST', body: JSON.stringify({ reason: 'why not' }) })).status).toBe(403);
    const off = await gh.cliJson(['users', 'create', '--email', 'off2@example.test', '--password', PASSWORD]);
    await gh.cliJson(['users', 'disable', 'off2@example.test']);
    expect((await api(`/users/${off.id}/token`, adminToken, { method: 'POST', body: JSON.stringify({ reason: 'support' }) })).status).toBe(409);
    expect((await api('/users/00000000-0000-4000-8000-000000000000/token', adminToken, { method: 'POST', body: JSON.stringify({ reason: 'support' }) })).status).toBe(404);
  });
});

describe('impersonation through RFC 8693 token exchange', () => {
  const exchange = (client: { client_id: string; client_secret: string }, body: Record<string, string>) => fetch(`${gh.issuer}/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', ...body }),
    headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));

  it('exchanges an admin token for an act-carrying token of the user, for clients allowed to', async () => {
    const exchanger = await gh.cliJson(['clients', 'create', '--name', 'Support tool', '--grant-types', 'client_credentials,token_exchange', '--scopes', 'openid']);
    const target = await gh.cliJson(['users', 'show', 'pleb@example.test']);
    const ok = await exchange(exchanger, { subject_token: adminToken, requested_subject: target.id, reason: 'Ticket 12: billing view' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(expect.objectContaining({ token_type: 'Bearer', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', expires_in: 900 }));
    const info = await (await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${ok.body.access_token}` } })).json() as { sub: string; act: { sub: string } };
    expect(info).toEqual(expect.objectContaining({ sub: target.id, act: { sub: admin.id } }));
    expect((await exchange(exchanger, { subject_token: adminToken, requested_subject: target.id })).body.error).toBe('invalid_request');
    const pleb = await tokenFor('pleb@example.test', 'openid admin');
    expect((await exchange(exchanger, { subject_token: pleb.access_token, requested_subject: admin.id, reason: 'escalate' })).body.error).toBe('invalid_grant');
    const refused = await exchange(console_, { subject_token: adminToken, requested_subject: target.id, reason: 'not allowed' });
    // oidc-provider answers invalid_request for a grant the client is not registered for
    expect([refused.body.error, refused.body.error_description]).toEqual(['invalid_request', 'requested grant type is not allowed for this client']);
  });
});

describe('clients, keys, audit', () => {
  it('manages clients', async () => {
    const c = await json(await api('/clients', adminToken, { method: 'POST', body: JSON.stringify({ name: 'Via API', redirect_uris: ['https://app.example.com/cb'] }) }));
    expect(c.status).toBe(201);
    expect(c.body.client_secret).toBeTruthy();
    const bad = await json(await api('/clients', adminToken, { method: 'POST', body: JSON.stringify({ name: 'Bad', redirect_uris: ['javascript:alert(1)'] }) }));
    expect(bad.status).toBe(400);
    const up = await json(await api(`/clients/${c.body.client_id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb2'] }) }));
    expect(up.body.redirect_uris).toEqual(['https://app.example.com/cb2']);
    const rot = await json(await api(`/clients/${c.body.client_id}/rotate-secret`, adminToken, { method: 'POST' }));
    expect(rot.body.client_secret).not.toBe(c.body.client_secret);
    expect((await api(`/clients/${c.body.client_id}`, adminToken, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/clients/${c.body.client_id}`, adminToken)).status).toBe(404);
  });

  it('rotates keys: published at once, signing after the configured delay, or at once with activate_in 0', async () => {
    const jwks = async () => ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = await json(await api('/keys', adminToken));
    const started = Date.now();
    const rot = await json(await api('/keys/rotate', adminToken, { method: 'POST', body: JSON.stringify({ alg: 'ES256' }) }));
    expect(rot.status).toBe(200);
    expect(rot.body.rotated).toHaveLength(1);
    const pending = rot.body.rotated[0];
    expect(new Date(rot.body.activatesAt).getTime()).toBeGreaterThanOrEqual(started + 24 * 3600_000); // the default: a day
    const after = await json(await api('/keys', adminToken));
    expect(after.body.length).toBe(before.body.length + 1);
    expect(after.body.find((k: { kid: string }) => k.kid === pending)).toMatchObject({ status: 'pending', activatesAt: rot.body.activatesAt });
    expect(await jwks()).toContain(pending); // this node at once (the others within their refresh interval)

    for (const bad of [{ alg: 'HS256' }, { activate_in: 5 }, { activate_in: -1 }, { activate_in: 'soon' }, { when: 'now' }]) {
      expect((await api('/keys/rotate', adminToken, { method: 'POST', body: JSON.stringify(bad) })).status).toBe(400);
    }

    const now = await json(await api('/keys/rotate', adminToken, { method: 'POST', body: JSON.stringify({ alg: 'ES256', activate_in: 0 }) }));
    const list = await json(await api('/keys', adminToken));
    const status = (kid: string) => list.body.find((k: { kid: string }) => k.kid === kid)?.status;
    expect(status(now.body.rotated[0])).toBe('active');
    expect(status(pending)).toBeUndefined(); // it never signed: the newer rotation dropped it
    const events = await json(await api('/audit?type=keys.rotated', adminToken));
    expect(events.body.events[0]).toMatchObject({ actor_id: admin.id, data: { kids: now.body.rotated } });
  });

  it('revokes a key: gone from the JWKS at once, audited; never the key that signs now', async () => {
    const jwks = async () => ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const keys = (await json(await api('/keys', adminToken))).body as Array<{ kid: string; alg: string; status: string }>;
    const signer = keys.find((k) => k.alg === 'ES256' && k.status === 'active')!;
    const retired = keys.find((k) => k.alg === 'ES256' && k.status === 'retired')!;

    const refused = await json(await api(`/keys/${signer.kid}/revoke`, adminToken, { method: 'POST' }));
    expect([refused.status, refused.body.error]).toEqual([409, 'last_signing_key']);
    expect((await api('/keys/no-such-kid/revoke', adminToken, { method: 'POST' })).status).toBe(404);

    const r = await json(await api(`/keys/${retired.kid}/revoke`, adminToken, { method: 'POST' }));
    expect(r).toEqual({ status: 200, body: { revoked: retired.kid, alg: 'ES256', was: 'retired' } });
    expect(await jwks()).not.toContain(retired.kid);
    expect(await jwks()).toContain(signer.kid);
    const events = await json(await api('/audit?type=keys.revoked', adminToken));
    expect(events.body.events[0]).toMatchObject({ actor_id: admin.id, data: { kid: retired.kid, alg: 'ES256', was: 'retired' } });
  });

  it('filters the audit log and validates its filters', async () => {
    const r = await json(await api('/audit?type=client.created&limit=5', adminToken));
    expect(r.body.events.every((e: { type: string }) => e.type === 'client.created')).toBe(true);
    expect((await api('/audit?since=yesterday', adminToken)).status).toBe(400);
    const since = new Date(Date.now() - 3600_000).toISOString();
    expect((await json(await api(`/audit?since=${encodeURIComponent(since)}`, adminToken))).body.total).toBeGreaterThan(0);
  });

  it('is described by the OpenAPI document', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/admin/users', '/api/admin/users/{id}/token', '/api/admin/audit', '/api/admin/keys/{kid}/revoke']));
  });
});
