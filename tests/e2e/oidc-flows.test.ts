// The protocol, end to end: openid-client as the relying party against a real server on real
// Postgres and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const BYE = 'http://127.0.0.1:7999/bye';
const API = 'https://api.example.test';
const EMAIL = 'ada@example.test';
const PASSWORD = 'correct horse battery staple';
let gh: TestServer;
let web: { client_id: string; client_secret: string };
let config: oidc.Configuration;
const rp = () => ({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function tokenRequest(body: Record<string, string>, auth = basic(web.client_id, web.client_secret)) {
  const res = await fetch(`${gh.issuer}/token`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
  });
  return { status: res.status, body: await res.json() as Record<string, any> };
}

/** An authorization code, not yet redeemed. */
async function codeFor(agent = new Agent(), extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email offline_access', prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's', ...extra,
  });
  let page = await agent.go(url.toString(), {}, REDIRECT);
  if (page.html.includes('current-password')) page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
  if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
  const code = new URL(page.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${page.url} ${page.html.slice(0, 500)}`);
  return { code, verifier, agent };
}

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_RESOURCES: API } });
  web = await gh.cliJson(['clients', 'create', '--name', 'Web App', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', BYE,
    '--grant-types', 'authorization_code,refresh_token,client_credentials', '--scopes', 'openid profile email offline_access']);
  await gh.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD, '--name', 'Ada Lovelace']);
  config = await discover(rp());
});
afterAll(async () => { await gh?.destroy(); });

describe('discovery and keys', () => {
  it('advertises only the secure options', async () => {
    const d = config.serverMetadata();
    expect(d.issuer).toBe(gh.issuer);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.grant_types_supported).not.toContain('implicit');
    expect(d.grant_types_supported).not.toContain('password');
    expect(d.authorization_response_iss_parameter_supported).toBe(true);
  });
  it('publishes RS256 and ES256 public keys only', async () => {
    const jwks = await (await fetch(`${gh.issuer}/jwks`)).json() as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const k of jwks.keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k[priv]).toBeUndefined();
  });
});

describe('authorization code + PKCE', () => {
  it('signs in and returns verifiable tokens with the contract claims', async () => {
    const { tokens, callback } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    expect(callback.searchParams.get('iss')).toBe(gh.issuer); // RFC 9207
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(gh.issuer);
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.email).toBe(EMAIL);
    expect(claims.name).toBe('Ada Lovelace');
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('pwd');
    expect(typeof claims.auth_time).toBe('number');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    const jwks = createRemoteJWKSet(new URL(`${gh.issuer}/jwks`));
    await expect(jwtVerify(tokens.id_token!, jwks, { issuer: gh.issuer, audience: web.client_id })).resolves.toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe(EMAIL);
  });

  it('remembers consent per client and signs in silently with prompt=none', async () => {
    const agent = new Agent();
    await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD, agent });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', prompt: 'none', state: 'x',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const page = await agent.go(url.toString(), {}, REDIRECT);
    expect(new URL(page.url).searchParams.get('code')).toBeTruthy();
  });

  it('answers prompt=none without a session with login_required', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', state: 'x',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await new Agent().go(url.toString(), {}, REDIRECT);
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
  });

  it('asks again with prompt=login and with an exceeded max_age', async () => {
    const agent = new Agent();
    await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD, agent });
    const asks: Array<Record<string, string>> = [{ prompt: 'login' }, { max_age: '0' }];
    for (const extra of asks) {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'x', ...extra,
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      await new Promise((r) => setTimeout(r, 1100)); // max_age=0 needs auth_time in the past
      const page = await agent.go(url.toString(), {}, REDIRECT);
      expect(page.html).toContain('current-password');
    }
  });

  it('prefills login_hint and accepts ui_locales and unknown parameters', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'x', login_hint: 'hint@example.test',
      ui_locales: 'fr en', frobnicate: '1', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await new Agent().go(url.toString(), {}, REDIRECT);
    expect(page.status).toBe(200);
    expect(page.html).toContain('value="hint@example.test"');
  });

  it('requires PKCE with S256 for every client, confidential ones too', async () => {
    const noPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'x' });
    const a = await new Agent().go(noPkce.toString(), {}, REDIRECT);
    expect(new URL(a.url).searchParams.get('error')).toBe('invalid_request');
    const plain = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'x', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    const b = await new Agent().go(plain.toString(), {}, REDIRECT);
    expect(new URL(b.url).searchParams.get('error')).toBe('invalid_request');
  });

  it('never redirects to an unregistered redirect URI or for an unknown client', async () => {
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    for (const [client, uri] of [[web.client_id, 'http://127.0.0.1:7999/cb/other'], [web.client_id, 'http://127.0.0.1:7999/cb?x=1'], ['nope', REDIRECT]]) {
      const url = new URL(`${gh.issuer}/auth`);
      url.search = new URLSearchParams({ client_id: client!, redirect_uri: uri!, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
      const res = await new Agent().request(url.toString());
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/html/);
      expect(await res.text()).not.toMatch(/at .*\.js:\d+/); // no stack trace
    }
  });

  it('refuses the implicit and hybrid response types', async () => {
    for (const responseType of ['token', 'id_token', 'code id_token']) {
      const url = new URL(`${gh.issuer}/auth`);
      url.search = new URLSearchParams({ client_id: web.client_id, redirect_uri: REDIRECT, response_type: responseType, scope: 'openid', nonce: 'n' }).toString();
      const page = await new Agent().go(url.toString(), {}, REDIRECT);
      expect(page.url.startsWith(REDIRECT) ? new URL(page.url.replace('#', '?')).searchParams.get('error') : 'page').toMatch(/unsupported_response_type|page|invalid/);
      expect(page.url).not.toContain('access_token');
    }
  });
});

describe('codes', () => {
  it('a reused code fails with invalid_grant and revokes the tokens issued from it', async () => {
    const { code, verifier } = await codeFor();
    const first = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(first.status).toBe(200);
    const again = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    const intro = await fetch(`${gh.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic(web.client_id, web.client_secret), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: first.body.access_token }) });
    expect((await intro.json() as { active: boolean }).active).toBe(false);
  });

  it('of ten parallel redemptions of one code exactly one succeeds', async () => {
    const { code, verifier } = await codeFor();
    const results = await Promise.all(Array.from({ length: 10 }, () => tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(9);
  });

  it('a wrong code_verifier fails', async () => {
    const { code } = await codeFor();
    const r = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: oidc.randomPKCECodeVerifier() });
    expect(r.body.error).toBe('invalid_grant');
  });

  it('codes live at most 60 seconds in the store', async () => {
    const { code } = await codeFor();
    const redis = new Redis(gh.env.REDIS_URL!);
    try {
      const ttl = await redis.ttl(`${gh.env.GATEHOUSE_REDIS_PREFIX}oidc:AuthorizationCode:${code}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
    } finally { redis.disconnect(); }
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; a replayed one revokes the grant', async () => {
    const { tokens } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    const r1 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).toBeTruthy();
    expect(r1.body.refresh_token).not.toBe(tokens.refresh_token);
    const replay = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(replay.body.error).toBe('invalid_grant');
    const after = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token });
    expect(after.body.error).toBe('invalid_grant'); // the whole grant is gone
  });

  it('a disabled account can no longer refresh or call userinfo', async () => {
    const email = 'grace@example.test';
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
    const { tokens } = await signIn(config, { ...rp(), email, password: PASSWORD });
    await gh.cliJson(['users', 'disable', email]);
    const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(r.body.error).toBe('invalid_grant');
    const ui = await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(ui.status).toBe(401);
  });
});

describe('userinfo', () => {
  it('answers GET and POST, with the token in the header or the body', async () => {
    const { tokens } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    const at = tokens.access_token;
    const get = await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${at}` } });
    const postHeader = await fetch(`${gh.issuer}/me`, { method: 'POST', headers: { authorization: `Bearer ${at}` } });
    const postBody = await fetch(`${gh.issuer}/me`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: at }) });
    for (const r of [get, postHeader, postBody]) {
      expect(r.status).toBe(200);
      expect((await r.json() as { email: string }).email).toBe(EMAIL);
    }
    const bad = await fetch(`${gh.issuer}/me`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });
});

describe('client credentials, introspection, revocation', () => {
  it('issues client_credentials tokens', async () => {
    const r = await tokenRequest({ grant_type: 'client_credentials' });
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
    expect(r.body.refresh_token).toBeUndefined();
  });

  it('refuses a wrong client secret and unknown grant types', async () => {
    expect((await tokenRequest({ grant_type: 'client_credentials' }, basic(web.client_id, 'wrong'))).body.error).toBe('invalid_client');
    expect((await tokenRequest({ grant_type: 'password', username: EMAIL, password: PASSWORD })).body.error).toBe('unsupported_grant_type');
  });

  it('introspection and revocation require client authentication', async () => {
    const { tokens } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    const unauth = await fetch(`${gh.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }) });
    expect(unauth.status).toBe(400);
    expect((await unauth.json() as { error: string }).error).toBe('invalid_request');
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(intro.active).toBe(true);
    expect(intro.sub).toBe(tokens.claims()!.sub);
    const unauthRevoke = await fetch(`${gh.issuer}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }) });
    expect(unauthRevoke.status).toBe(400);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);
  });

  it('public clients cannot introspect', async () => {
    const pub = await gh.cliJson(['clients', 'create', '--name', 'SPA', '--public', '--redirect-uri', REDIRECT]);
    const res = await fetch(`${gh.issuer}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'x', client_id: pub.client_id }) });
    const body = await res.json() as { active?: boolean; error?: string };
    expect(body.active === true).toBe(false);
  });
});

describe('JWT access tokens for API resources (RFC 8707, RFC 9068)', () => {
  it('issues a JWT for a registered resource and an error for an unknown one', async () => {
    const { tokens } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD, extra: { resource: API } });
    const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, resource: API });
    expect(r.status).toBe(200);
    expect(decodeProtectedHeader(r.body.access_token).typ).toBe('at+jwt');
    const payload = decodeJwt(r.body.access_token);
    expect(payload.aud).toBe(API);
    expect(payload.iss).toBe(gh.issuer);
    const cc = await tokenRequest({ grant_type: 'client_credentials', resource: 'https://unknown.example.test' });
    expect(cc.body.error).toBe('invalid_target');
  });
});

describe('ES256 ID tokens by client setting', () => {
  it('signs with ES256 when the client asks', async () => {
    const es = await gh.cliJson(['clients', 'create', '--name', 'EC App', '--redirect-uri', REDIRECT, '--id-token-alg', 'ES256']);
    const cfg = await discover({ issuer: gh.issuer, clientId: es.client_id, clientSecret: es.client_secret, redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer: gh.issuer, clientId: es.client_id, clientSecret: es.client_secret, redirectUri: REDIRECT, email: EMAIL, password: PASSWORD });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
  });
});

describe('RP-initiated logout', () => {
  it('returns only to a registered post_logout_redirect_uri', async () => {
    const { tokens, agent } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    const bad = new URL(`${gh.issuer}/session/end`);
    bad.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:7999/evil' }).toString();
    const refused = await agent.go(bad.toString(), {}, 'http://127.0.0.1:7999/');
    expect(refused.status).toBe(400);
    const good = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: BYE, state: 'bye' });
    const confirm = await agent.go(good.toString(), {}, BYE);
    expect(confirm.html).toContain('op.logoutForm');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    const done = await agent.go(new URL('/session/end/confirm', gh.issuer).toString(), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }),
    }, BYE);
    expect(done.url.startsWith(BYE)).toBe(true);
    expect(new URL(done.url).searchParams.get('state')).toBe('bye');
  });
});

describe('bad input never yields a 500', () => {
  it('malformed, oversized, duplicated and mistyped requests get a 4xx', async () => {
    const post = (path: string, body: string, type: string) => fetch(`${gh.issuer}${path}`, { method: 'POST', headers: { 'content-type': type, authorization: basic(web.client_id, web.client_secret) }, body });
    const cases = [
      await post('/token', '{"grant_type":', 'application/json'),
      await post('/token', 'grant_type=client_credentials&grant_type=client_credentials', 'application/x-www-form-urlencoded'),
      await post('/token', `grant_type=client_credentials&scope=${'a'.repeat(2_000_000)}`, 'application/x-www-form-urlencoded'),
      await post('/token', 'grant_type=client_credentials', 'text/plain'),
      await fetch(`${gh.issuer}/auth?client_id=${web.client_id}&client_id=${web.client_id}`),
      await post(`/interaction/nope/login`, 'email=a', 'application/x-www-form-urlencoded'),
      await post(`/interaction/nope/login`, '{"email":"a"}', 'application/json'),
      await fetch(`${gh.issuer}/interaction/does-not-exist`),
    ];
    for (const [i, r] of cases.entries()) {
      expect([i, r.status >= 400 && r.status < 500]).toEqual([i, true]);
      expect(r.status).toBeLessThan(500);
      expect(await r.text()).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
  });

  it('protocol errors are spec-shaped JSON', async () => {
    const r = await tokenRequest({ grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, code_verifier: 'x'.repeat(43) });
    expect(r.body).toEqual(expect.objectContaining({ error: 'invalid_grant', error_description: expect.any(String) }));
  });
});

describe('CORS', () => {
  it('allows the token endpoint only from the origins of registered redirect URIs', async () => {
    const ok = await fetch(`${gh.issuer}/token`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:7999', 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:7999');
    const evil = await tokenRequest({ grant_type: 'client_credentials' });
    expect(evil.status).toBe(200);
    const evilCors = await fetch(`${gh.issuer}/token`, { method: 'POST', headers: { origin: 'https://evil.example', authorization: basic(web.client_id, web.client_secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(evilCors.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});
