// The edge of the server, as an outsider meets it: forged forwarding headers behind a trusted proxy,
// Strict-Transport-Security for https issuers, and slow clients that try to hold a socket.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import * as oidc from 'openid-client';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, csrfOf, discover, formAction } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
/** The address our pretend proxy saw: the one entry Gatehouse may trust with GATEHOUSE_TRUST_PROXY=1. */
const REAL = '203.0.113.9';
const HEADERS_TIMEOUT_S = 1;
const REQUEST_TIMEOUT_S = 2;
/** The bound plus Node's check interval (1 s, src/server.ts) plus slack for a loaded CI machine. */
const CLOSE_WITHIN_MS = (REQUEST_TIMEOUT_S + 1) * 1000 + 1500;

let proxied: TestServer; // http issuer, one trusted proxy hop, short timeouts
let secure: TestServer; // https issuer (TLS ends at a proxy in front)

beforeAll(async () => {
  [proxied, secure] = await Promise.all([
    startServer({ env: {
      GATEHOUSE_TRUST_PROXY: 'true',
      GATEHOUSE_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S), GATEHOUSE_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_S),
    } }),
    startServer({ https: true, env: { GATEHOUSE_TRUST_PROXY: '1' } }),
  ]);
});
afterAll(async () => { await Promise.all([proxied?.destroy(), secure?.destroy()]); });

describe('behind a trusted proxy, forged X-Forwarded-For', () => {
  /** A forged left part (what a client wrote) and the entry the proxy appended. */
  const forged = (i: number) => `10.66.${i}.1, ${REAL}`;

  it('cannot escape the per-IP sign-up limit: every request counts against the proxy-seen address', async () => {
    const app = await proxied.cliJson(['clients', 'create', '--name', 'Edge', '--redirect-uri', REDIRECT]);
    const config = await discover({ issuer: proxied.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const agent = new Agent();
    const login = await agent.go(url.toString());
    const signup = await agent.go(new URL(/href="([^"]*\/signup)"/.exec(login.html)![1]!, login.url).toString());
    const action = new URL(formAction(signup.html, '/signup'), signup.url).toString();
    const statuses: number[] = [];
    // SIGNUP_LIMITS.ip allows 20 sign-ups an hour from one address
    for (let i = 0; i < 21; i++) {
      const res = await agent.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forged(i) },
        body: new URLSearchParams({ _csrf: csrfOf(signup.html), name: 'Edge', email: `edge-${i}@example.test`, password: 'a long enough pass phrase' }),
      });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses.slice(0, 20).every((s) => s === 303)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('the audit log records the proxy-seen address, not the forged one', async () => {
    const app = await proxied.cliJson(['clients', 'create', '--name', 'Audit', '--redirect-uri', REDIRECT]);
    const config = await discover({ issuer: proxied.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
    await proxied.cliJson(['users', 'create', '--email', 'audited@example.test', '--password', 'the right pass phrase', '--verified']);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const agent = new Agent();
    const login = await agent.go(url.toString());
    const res = await agent.request(new URL(formAction(login.html, '/login'), login.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `198.51.100.77, ${REAL}` },
      body: new URLSearchParams({ _csrf: csrfOf(login.html), email: 'audited@example.test', password: 'a wrong pass phrase' }),
    });
    expect(res.status).toBe(401);
    const db = new pg.Client({ connectionString: proxied.env.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT ip FROM audit_events WHERE type = 'signin.failed' AND data->>'email' = 'audited@example.test'`);
      expect(rows.map((r) => String(r.ip))).toEqual([REAL]);
    } finally {
      await db.end();
    }
  });

  it('takes the scheme from the trusted proxy, on hosted pages and the provider\'s endpoints alike', async () => {
    const base = `http://127.0.0.1:${secure.port}`;
    const viaProxy = { 'x-forwarded-proto': 'https', 'x-forwarded-for': `198.51.100.77, ${REAL}` };
    const page = await fetch(`${base}/account/forgot`, { headers: viaProxy });
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie().join('\n')).toMatch(/gh_csrf=[^\n]*; secure/);
    const doc = await (await fetch(`${base}/.well-known/openid-configuration`, { headers: viaProxy })).json() as { token_endpoint: string };
    expect(doc.token_endpoint).toBe(`${secure.issuer}/token`);
  });
});

describe('Strict-Transport-Security', () => {
  it('is sent by an https issuer, on hosted pages and the provider\'s endpoints alike', async () => {
    const base = `http://127.0.0.1:${secure.port}`;
    const viaProxy = { 'x-forwarded-proto': 'https', 'x-forwarded-for': REAL };
    for (const path of ['/account/forgot', '/.well-known/openid-configuration', '/jwks', '/healthz', '/no-such-page']) {
      const res = await fetch(`${base}${path}`, { headers: viaProxy });
      expect([path, res.headers.get('strict-transport-security')]).toEqual([path, 'max-age=31536000; includeSubDomains']);
    }
  });

  it('is not sent by an http issuer', async () => {
    for (const path of ['/account/forgot', '/.well-known/openid-configuration']) {
      const res = await fetch(`${proxied.issuer}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });
});

describe('slow clients', () => {
  /** Opens a raw socket, writes `first`, then one of `drip` every `everyMs`; resolves with what came back and when the server closed. */
  function dripFeed(first: string, drip: string, everyMs: number): Promise<{ ms: number; received: string }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let received = '';
      const socket: Socket = connect(proxied.port, '127.0.0.1', () => socket.write(first));
      const timer = setInterval(() => { if (!socket.destroyed) socket.write(drip); }, everyMs);
      const giveUp = setTimeout(() => { socket.destroy(); }, 20_000);
      socket.on('data', (d) => { received += String(d); });
      socket.on('error', () => { /* a reset after the 408 is a close too */ });
      socket.on('close', () => { clearInterval(timer); clearTimeout(giveUp); resolve({ ms: Date.now() - started, received }); });
      socket.on('timeout', reject);
    });
  }

  it('closes a connection whose headers arrive too slowly', async () => {
    const { ms, received } = await dripFeed('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: y\r\n', 300);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
  });

  it('closes a connection whose body arrives too slowly', async () => {
    const head = 'POST /account/forgot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n';
    const { ms, received } = await dripFeed(head, 'a', 200);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
  });

  // Whoever reads the body (our form and JSON parsers, oidc-provider's own, a route that reads none),
  // a body that does not arrive in time is a 408 and the connection is closed: never a 400, 404 or 413
  it.each([
    ['POST', '/token', 'application/x-www-form-urlencoded'],
    ['POST', '/token/revocation', 'application/x-www-form-urlencoded'],
    ['POST', '/auth', 'application/x-www-form-urlencoded'],
    ['POST', '/account/forgot', 'application/x-www-form-urlencoded'],
  ])('answers a slow body at %s %s with 408 and closes the connection', async (method, path, type) => {
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: 5000\r\n\r\n`;
    const { ms, received } = await dripFeed(head, 'a', 200);
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received.match(/^HTTP\/1\.1 /gm)).toHaveLength(1); // one answer, not a second one after it
    expect(ms).toBeLessThan(CLOSE_WITHIN_MS);
  });

  // Answered without the body (no credentials, no such route, a declared length over the limit): the
  // answer comes at once and closes the connection, instead of Node's 408 following it on the same
  // socket once the rest of the body is overdue (a second response to one request)
  it.each([
    ['PATCH', '/api/me', 'application/json', 5000, 401],
    ['POST', '/no-such-page', 'application/json', 5000, 404],
    ['POST', '/account/forgot', 'application/x-www-form-urlencoded', 100_000, 413],
  ])('answers %s %s at once, without its body, and closes the connection', async (method, path, type, length, status) => {
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;
    const { ms, received } = await dripFeed(head, 'a', 200);
    expect(received.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).not.toMatch(/408 Request Timeout/);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_S * 1000); // closed after the answer, not at the timeout
  });

  it('still serves a client that sends at a normal pace', async () => {
    const res = await fetch(`${proxied.issuer}/healthz`);
    expect(res.status).toBe(200);
  });
});
