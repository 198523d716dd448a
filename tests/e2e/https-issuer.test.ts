// An https issuer, as deployed: Gatehouse speaks plain HTTP behind a TLS-terminating proxy and
// learns the scheme from the proxy's X-Forwarded-Proto. A request that reaches it without a trusted
// `X-Forwarded-Proto: https` (trust not configured, or someone going round the proxy) is never a
// 500: hosted pages and the provider's browser endpoints answer 421 with a readable page, while
// probes, metrics, discovery, the JWKS and the machine-to-machine endpoints keep working and set no
// cookie.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, formAction } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const EMAIL = 'tls@example.test';
const PASSWORD = 'behind the proxy we trust';

let untrusted: TestServer; // https issuer, GATEHOUSE_TRUST_PROXY unset (allowed outside production)
let trusted: TestServer; // https issuer, one trusted proxy hop
type Client = { client_id: string; client_secret: string };
/** Each deployment's app, registered for every grant these tests use. */
const clients = new Map<TestServer, Client>();
const createClient = (s: TestServer) => s.cliJson<Client>(['clients', 'create', '--name', 'TLS App', '--redirect-uri', REDIRECT,
  '--grant-types', 'authorization_code,refresh_token,client_credentials,device_code']);

beforeAll(async () => {
  [untrusted, trusted] = await Promise.all([
    startServer({ https: true }),
    startServer({ https: true, env: { GATEHOUSE_TRUST_PROXY: '1' } }),
  ]);
  for (const s of [untrusted, trusted]) clients.set(s, await createClient(s));
  await trusted.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD]);
}, 60_000);
afterAll(async () => { await Promise.all([untrusted?.destroy(), trusted?.destroy()]); });

/** Where the process answers: plain http on its port, whatever the issuer says. */
const local = (s: TestServer) => `http://127.0.0.1:${s.port}`;
const basic = (s: TestServer) => `Basic ${Buffer.from(`${clients.get(s)!.client_id}:${clients.get(s)!.client_secret}`).toString('base64')}`;

/** A browser behind the TLS proxy: https URLs of the issuer go to the process with X-Forwarded-Proto. */
class ProxiedBrowser extends Agent {
  private readonly server: TestServer;
  constructor(server: TestServer) { super(); this.server = server; }
  override async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = url.startsWith(this.server.issuer) ? local(this.server) + url.slice(this.server.issuer.length) : url;
    return super.request(target, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-forwarded-proto': 'https' } });
  }
}

/** Hosted pages and the provider's browser endpoints (each sets or reads a cookie). */
const BROWSER_REQUESTS: Array<[string, RequestInit?]> = [
  ['/account/forgot'],
  ['/account/forgot', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40example.test' }],
  ['/account'],
  ['/account/apps'],
  ['/admin'],
  ['/auth?client_id=x&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A7999%2Fcb&code_challenge=' + 'a'.repeat(43) + '&code_challenge_method=S256'],
  ['/session/end'],
  ['/device'],
  ['/interaction/abc'],
];

async function expectRefused(server: TestServer) {
  for (const [path, init] of BROWSER_REQUESTS) {
    const res = await fetch(`${local(server)}${path}`, { ...init, headers: { accept: 'text/html', ...(init?.headers as Record<string, string>) }, redirect: 'manual' });
    const html = await res.text();
    expect([init?.method ?? 'GET', path, res.status]).toEqual([init?.method ?? 'GET', path, 421]);
    expect(html).toContain('served over https only');
    expect(html).toContain(server.issuer); // the way forward
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
  }
  // an API client asking for JSON gets JSON
  const json = await fetch(`${local(server)}/session/end`, { headers: { accept: 'application/json' } });
  expect(json.status).toBe(421);
  expect(await json.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('https') });
}

/** Probes, metrics, discovery, JWKS, and the machine-to-machine endpoints over plain http: answered, no cookie. */
async function expectMachineEndpointsWork(server: TestServer) {
  const check = async (path: string, init: RequestInit, status: number) => {
    const res = await fetch(`${local(server)}${path}`, init);
    const body = await res.text();
    expect([path, res.status]).toEqual([path, status]);
    expect([path, res.headers.getSetCookie()]).toEqual([path, []]);
    return body;
  };
  for (const path of ['/healthz', '/readyz', '/metrics', '/.well-known/openid-configuration', '/jwks']) await check(path, {}, 200);
  const form = (body: Record<string, string>) => ({ method: 'POST', headers: { authorization: basic(server), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  const token = JSON.parse(await check('/token', form({ grant_type: 'client_credentials' }), 200)) as { access_token: string };
  expect(JSON.parse(await check('/token/introspection', form({ token: token.access_token }), 200))).toMatchObject({ active: true });
  await check('/token/revocation', form({ token: token.access_token }), 200);
  expect(JSON.parse(await check('/device/auth', form({ client_id: clients.get(server)!.client_id, scope: 'openid' }), 200))).toMatchObject({ device_code: expect.any(String) });
}

describe('an https issuer whose proxy is not trusted (GATEHOUSE_TRUST_PROXY unset)', () => {
  it('answers every hosted page and browser endpoint 421 with a page that says so, never a 500', async () => {
    await expectRefused(untrusted);
    // a forwarded header means nothing while no proxy is trusted
    const res = await fetch(`${local(untrusted)}/account/forgot`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(421);
    const log = await untrusted.settledLog(/GATEHOUSE_TRUST_PROXY must trust that proxy/);
    expect(log).toMatch(/GATEHOUSE_TRUST_PROXY must trust that proxy/); // the operator is told once
    expect(log).not.toMatch(/"status":500/);
  });

  it('keeps probes, metrics, discovery, JWKS and the token endpoints working over plain http', async () => {
    await expectMachineEndpointsWork(untrusted);
  });
});

describe('an https issuer behind its trusted proxy', () => {
  it('serves the browser through the proxy; a request around the proxy gets 421 on pages, answers on machine endpoints', async () => {
    // through the proxy: sign in, consent, code
    const browser = new ProxiedBrowser(trusted);
    const client = clients.get(trusted)!;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = `${trusted.issuer}/auth?${new URLSearchParams({
      client_id: client.client_id, response_type: 'code', scope: 'openid email', redirect_uri: REDIRECT, state: 'st',
      code_challenge: challenge, code_challenge_method: 'S256',
    })}`;
    let page = await browser.go(url, {}, REDIRECT);
    expect(page.status).toBe(200);
    page = await browser.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
    if (page.html.includes('/confirm')) page = await browser.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    const code = new URL(page.url).searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    expect([...browser.cookies.keys()]).toContain('gh_session');

    // the app's back channel, plain http inside the network: the code, userinfo
    const tokenRes = await fetch(`${local(trusted)}/token`, {
      method: 'POST', headers: { authorization: basic(trusted), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier }),
    });
    expect(tokenRes.status).toBe(200);
    const tokens = await tokenRes.json() as { access_token: string };
    const me = await fetch(`${local(trusted)}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: EMAIL });

    // around the proxy (no X-Forwarded-Proto): pages refused, machine endpoints answered
    await expectRefused(trusted);
    await expectMachineEndpointsWork(trusted);
    // a proxy that says http is no better
    expect((await fetch(`${local(trusted)}/account/forgot`, { headers: { 'x-forwarded-proto': 'http' } })).status).toBe(421);
    expect(await trusted.settledLog()).not.toMatch(/"status":500/);
  });
});
