// The account API with Gatehouse access tokens: scope-authorised, validated, never a 500.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'api pass phrase 2026';
let gh: TestServer;
let config: oidc.Configuration;
let client: { client_id: string; client_secret: string };

const call = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}${path}`, {
  ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
});

async function tokenWith(scope: string, email = 'me@example.test') {
  const { tokens } = await signIn(config, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email, password: PASSWORD, scope });
  return tokens.access_token;
}

beforeAll(async () => {
  gh = await startServer();
  client = await gh.cliJson(['clients', 'create', '--name', 'API App', '--redirect-uri', REDIRECT, '--grant-types', 'authorization_code,refresh_token,client_credentials',
    '--scopes', 'openid profile email offline_access profile:write']);
  await gh.cliJson(['users', 'create', '--email', 'me@example.test', '--password', PASSWORD, '--name', 'Me Myself']);
  config = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
});
afterAll(async () => { await gh?.destroy(); });

describe('/api/me', () => {
  it('reads the profile with an openid token and refuses without one', async () => {
    const at = await tokenWith('openid');
    const res = await call('/api/me', at);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expect.objectContaining({ email: 'me@example.test', name: 'Me Myself' }));
    const none = await call('/api/me', undefined);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'invalid_token', message: expect.any(String) });
    expect((await call('/api/me', 'garbage')).status).toBe(401);
  });

  it('refuses client_credentials tokens (no user)', async () => {
    const cc = await oidc.clientCredentialsGrant(config, {});
    expect((await call('/api/me', cc.access_token)).status).toBe(401);
  });

  it('changes the profile only with the profile:write scope, partially, validated', async () => {
    // reading the profile (the profile scope, "see your name…") is not changing it
    for (const scope of ['openid', 'openid profile email']) {
      const narrow = await tokenWith(scope);
      const denied = await call('/api/me', narrow, { method: 'PATCH', body: JSON.stringify({ name: 'X' }) });
      expect(denied.status).toBe(403);
      expect((await denied.json() as { error: string }).error).toBe('insufficient_scope');
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="profile:write"');
    }
    expect((await (await call('/api/me', await tokenWith('openid'))).json() as { name: string }).name).toBe('Me Myself');

    const at = await tokenWith('openid profile:write');
    const ok = await call('/api/me', at, { method: 'PATCH', body: JSON.stringify({ given_name: 'Ada', locale: 'en-GB' }) });
    expect(ok.status).toBe(200);
    const me = await ok.json() as Record<string, unknown>;
    expect(me).toEqual(expect.objectContaining({ given_name: 'Ada', locale: 'en-GB', name: 'Me Myself' }));

    const cases: Array<[unknown, RegExp]> = [
      [{ email: 'other@example.test' }, /email/],
      [{ roles: ['admin'] }, /roles/],
      [{ nickname: 'x' }, /unknown field/],
      [{ picture: 'javascript:alert(1)' }, /picture/],
      [{ locale: 'not a locale' }, /locale/],
      [{ name: 'x'.repeat(500) }, /name/],
    ];
    for (const [body, why] of cases) {
      const r = await call('/api/me', at, { method: 'PATCH', body: JSON.stringify(body) });
      expect(r.status).toBe(400);
      expect((await r.json() as { message: string }).message).toMatch(why);
    }
    const malformed = await call('/api/me', at, { method: 'PATCH', body: '{"name":' });
    expect(malformed.status).toBe(400);
    const wrongType = await call('/api/me', at, { method: 'PATCH', body: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    // nothing half-applied
    const after = await (await call('/api/me', at)).json() as Record<string, unknown>;
    expect(after.email).toBe('me@example.test');
    expect(after.roles).toEqual([]);
  });

  it('profile:write is never a default scope, and only clients registered with it may ask for it', async () => {
    const plain = await gh.cliJson(['clients', 'create', '--name', 'Plain App', '--redirect-uri', REDIRECT]);
    expect(plain.scope.split(' ')).not.toContain('profile:write');
    const rp = { issuer: gh.issuer, clientId: plain.client_id, clientSecret: plain.client_secret, redirectUri: REDIRECT };
    await expect(signIn(await discover(rp), { ...rp, email: 'me@example.test', password: PASSWORD, scope: 'openid profile profile:write' }))
      .rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('answers CORS preflights only for registered redirect-URI origins', async () => {
    const ok = await fetch(`${gh.issuer}/api/me`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:7999', 'access-control-request-method': 'GET' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:7999');
    const evil = await fetch(`${gh.issuer}/api/me`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('publishes an OpenAPI 3.1 document', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/me']).toBeTruthy();
  });
});
