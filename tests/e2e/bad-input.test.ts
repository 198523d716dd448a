// Bad input is a 4xx, never a 500: the cases an outside audit found, one by one (tests/e2e/fuzz.test.ts
// searches for more). Each answer is spec-shaped where a protocol demands it, carries our security
// headers, and leaves no stack trace on the server's stderr.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';
import { csrfOf, discover, signIn } from '../../harness/http-agent.ts';
import { openAccount } from '../support/account.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'bad input pass phrase 1';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
let gh: TestServer;
let client: { client_id: string; client_secret: string };
let bearer: string;
let basic: string;

beforeAll(async () => {
  gh = await startServer();
  const doc = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json() as { scopes_supported: string[] };
  const scope = doc.scopes_supported.filter((s) => s !== 'offline_access').join(' ');
  client = await gh.cliJson(['clients', 'create', '--name', 'Bad input', '--redirect-uri', REDIRECT, '--scopes', scope]);
  await gh.cliJson(['users', 'create', '--email', 'boss@example.test', '--password', PASSWORD, '--admin']);
  const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
  bearer = (await signIn(cfg, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'boss@example.test', password: PASSWORD, scope })).tokens.access_token;
  basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
}, 60_000);
afterAll(async () => { await gh?.destroy(); });

function expectHeaders(res: Response): void {
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
}

async function oauthError(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expectHeaders(res);
  const body = await res.json() as { error: string; error_description: string };
  expect(body.error).toBe('invalid_request');
  expect(body.error_description).toMatch(/control character/);
}

describe('a NUL byte', () => {
  it('is an OAuth invalid_request at the token, revocation, introspection and device endpoints', async () => {
    const post = (path: string, body: string, auth = true) => fetch(`${gh.issuer}${path}`, {
      method: 'POST', body, headers: { ...FORM, accept: 'application/json', ...(auth ? { authorization: basic } : {}) },
    });
    await oauthError(await post('/token', `grant_type=client_credentials&client_id=x%00`, false));
    await oauthError(await post('/token', 'grant_type=client_credentials&scope=openid%00'));
    await oauthError(await post('/token/revocation', 'token=abc%00'));
    await oauthError(await post('/token/introspection', 'token=abc%00'));
    await oauthError(await post('/device/auth', `client_id=${client.client_id}%00`, false));
    await oauthError(await fetch(`${gh.issuer}/session/end?client_id=x%00`, { headers: { accept: 'application/json' } }));
  });

  it('at the authorization endpoint is an error page for a browser, not a redirect', async () => {
    const res = await fetch(`${gh.issuer}/auth?client_id=${client.client_id}%00&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expectHeaders(res);
    expect(await res.text()).toContain('invalid_request');
  });

  it('is a 400 {error, message} at the account and admin APIs', async () => {
    const json = (method: string, path: string, body: unknown) => fetch(`${gh.issuer}${path}`, {
      method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    });
    for (const res of [
      await json('PATCH', '/api/me', { name: 'a\u0000b' }),
      await json('POST', '/api/admin/users', { email: 'x\u0000@example.test', password: 'long enough password' }),
      await fetch(`${gh.issuer}/api/admin/users?q=%00`, { headers: { authorization: `Bearer ${bearer}` } }),
      await fetch(`${gh.issuer}/api/admin/users/%00`, { headers: { authorization: `Bearer ${bearer}` } }),
    ]) {
      expect(res.status).toBe(400);
      expectHeaders(res);
      const body = await res.json() as { error: string; message: string };
      expect(body.error).toBe('invalid_request');
      expect(body.message).toMatch(/control character/);
    }
  });

  it('is a readable 400 page on the hosted forms', async () => {
    const page = await fetch(`${gh.issuer}/account/forgot`);
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const res = await fetch(`${gh.issuer}/account/forgot`, {
      method: 'POST', headers: { ...FORM, cookie, accept: 'text/html' }, body: `_csrf=${encodeURIComponent(csrfOf(await page.text()))}&email=a%00%40example.test`,
    });
    expect(res.status).toBe(400);
    expectHeaders(res);
    expect(await res.text()).toContain('control character');
  });
});

describe('the device flow pages', () => {
  it('POST /device without a session cookie is a 400 code page whose form works', async () => {
    const res = await fetch(`${gh.issuer}/device`, { method: 'POST', headers: FORM, body: 'user_code=BCDF-GHJK' });
    expect(res.status).toBe(400);
    expectHeaders(res);
    const html = await res.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(xsrf).toBeDefined();
    // the page's form is usable: its session was stored, so the next try reaches the code lookup
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const again = await fetch(`${gh.issuer}/device`, { method: 'POST', headers: { ...FORM, cookie }, body: `xsrf=${xsrf}&user_code=BCDF-GHJK` });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('That code is not right');
  });

  it('GET /device/<anything> and GET /device/auth are 4xx pages with our headers', async () => {
    for (const path of ['/device/auth', '/device/auth?client_id=%ZZ&x=1&x=2', '/device/nonsense', '/device/auth?x=%00']) {
      const res = await fetch(`${gh.issuer}${path}`, { headers: { accept: 'text/html' } });
      expect([400, 404]).toContain(res.status);
      expectHeaders(res);
    }
  });
});

describe('hosted forms', () => {
  it('a field sent twice or in pieces is a 400 page, not a 500', async () => {
    const { agent, page } = await openAccount(gh.issuer, '/account', { email: 'boss@example.test', password: PASSWORD });
    const csrf = encodeURIComponent(csrfOf(page.html));
    for (const body of [`_csrf=${csrf}&name=a&name=b`, `_csrf=${csrf}&name[]=x`, `_csrf=${csrf}&name[a]=x`]) {
      const res = await agent.request(`${gh.issuer}/account/profile`, { method: 'POST', headers: { ...FORM, accept: 'text/html' }, body });
      expect(res.status).toBe(400);
      expectHeaders(res);
      expect(await res.text()).toContain('Send each field once');
    }
  });
});

it('left no stack trace on stderr', () => {
  expect(gh.stderr()).not.toMatch(STACK_LINE);
});
