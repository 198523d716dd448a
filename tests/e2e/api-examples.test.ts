// The API examples of docs/resources.md, run for real: Gatehouse on Postgres and Redis, a resource
// that asks for email, name and roles, a token for it from openid-client, and each example — the
// FastAPI one under Debian's Python and uvicorn (code we did not write verifying our tokens), the
// TypeScript one with jose — answering 200 with the claims and the user it provisioned by sub, and
// 401 for a token for another audience, an ID token, a tampered token and an expired one. The docs'
// code blocks are the example files, word for word.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { freePort, startServer, type TestServer } from '../support/server.ts';
import { PYTHON } from '../support/env.ts';
import { stopAtTeardown } from '../support/leftovers.ts';
import { discover, signIn } from '../../harness/http-agent.ts';
import { createApi } from '../../examples/api-ts/server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'api examples pass phrase';
const API = 'https://orders.example.test';
const OTHER = 'https://billing.example.test';
/** The shortest lifetime a resource may have: the expired-token case waits it out. */
const SHORT_TTL = 60;
const PYTHON_READY_MS = 20_000;
/** Gatehouse, six `gatehouse` commands (each loads the server's code), five sign-ins, uvicorn. */
const SETUP_TIMEOUT_MS = 240_000;
/** Past exp by more than a rounding of the clock (both examples allow no leeway). */
const EXPIRY_MARGIN_MS = 1500;

let gh: TestServer;
let user: { id: string };
let tokens: { forApi: string; forOther: string; idToken: string; shortLived: string; second: string };
const apis: Record<'python' | 'typescript', string> = {} as never;
let python: ChildProcess;
let pythonOutput = '';

async function startPython(): Promise<string> {
  const port = await freePort();
  python = spawn(PYTHON, ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: resolve(ROOT, 'examples/api-python'),
    env: { PATH: '/usr/bin:/bin', GATEHOUSE_ISSUER: gh.issuer, API_AUDIENCE: API },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  python.stdout!.on('data', (d) => { pythonOutput += String(d); });
  python.stderr!.on('data', (d) => { pythonOutput += String(d); });
  stopAtTeardown(async () => { if (python.exitCode === null) { python.kill(); await once(python, 'exit'); } });
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + PYTHON_READY_MS;
  while (Date.now() < until) {
    if (python.exitCode !== null) throw new Error(`uvicorn exited (${python.exitCode}):\n${pythonOutput}`);
    try { if ((await fetch(`${base}/me`)).status === 401) return base; } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`uvicorn did not answer within ${PYTHON_READY_MS} ms:\n${pythonOutput}`);
}

const me = async (base: string, token: string) => {
  const r = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, auth: r.headers.get('www-authenticate'), body: await r.json() as any };
};
/** The token with one character of its payload changed: the signature no longer matches. */
function tampered(token: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
  claims.roles = ['admin', 'superuser'];
  return [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
}

beforeAll(async () => {
  gh = await startServer();
  // the API starts with the shortest lifetime: the first token for it is the one that will expire
  await gh.cliJson(['resources', 'create', '--audience', API, '--name', 'Orders API', '--claims', 'email,name,roles', '--scopes', 'orders:read', '--ttl', String(SHORT_TTL)]);
  await gh.cliJson(['resources', 'create', '--audience', OTHER, '--claims', 'email']);
  const app = await gh.cliJson(['clients', 'create', '--name', 'Orders app', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email roles offline_access']);
  user = await gh.cliJson(['users', 'create', '--email', 'grace@example.test', '--password', PASSWORD, '--name', 'Grace Hopper', '--admin', '--verified']);
  await gh.cliJson(['users', 'create', '--email', 'alan@example.test', '--password', PASSWORD, '--name', 'Alan Turing', '--verified']);
  const rp = { issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT };
  const cfg = await discover(rp);
  const login = (resource: string, email = 'grace@example.test') =>
    signIn(cfg, { ...rp, email, password: PASSWORD, scope: 'openid profile email roles orders:read offline_access', extra: { resource } });
  // the short-lived token first: its minute runs while the rest is set up and checked
  const shortLived = (await login(API)).tokens.access_token;
  await gh.cliJson(['resources', 'update', API, '--ttl', 'default']);
  const mine = await login(API);
  tokens = {
    shortLived,
    forApi: mine.tokens.access_token,
    idToken: mine.tokens.id_token!,
    forOther: (await login(OTHER)).tokens.access_token,
    second: (await login(API, 'alan@example.test')).tokens.access_token,
  };
  apis.python = await startPython();
  const ts = createApi({ issuer: gh.issuer, audience: API });
  ts.listen(0, '127.0.0.1');
  await once(ts, 'listening');
  stopAtTeardown(() => new Promise<void>((r) => ts.close(() => r())));
  apis.typescript = `http://127.0.0.1:${(ts.address() as AddressInfo).port}`;
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  if (python && python.exitCode === null) { python.kill(); await once(python, 'exit'); }
  await gh?.destroy();
});

describe.each(['python', 'typescript'] as const)('the %s example', (which) => {
  it('answers 200 with the claims, and provisions its user by sub on first sight only', async () => {
    const first = await me(apis[which], tokens.forApi);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: true, email: 'grace@example.test', name: 'Grace Hopper', roles: ['admin'] });
    expect(first.body.user).toMatchObject({ sub: user.id, email: 'grace@example.test', name: 'Grace Hopper' });
    const again = await me(apis[which], tokens.forApi);
    expect(again.body).toMatchObject({ created: false, user: { id: first.body.user.id, sub: user.id } });
    const other = await me(apis[which], tokens.second);
    expect(other.body).toMatchObject({ created: true, roles: [] });
    expect(other.body.user.id).not.toBe(first.body.user.id);
  });

  it('answers 401 for no token, another audience, an ID token and a tampered token', async () => {
    expect((await fetch(`${apis[which]}/me`)).status).toBe(401);
    for (const token of [tokens.forOther, tokens.idToken, tampered(tokens.forApi), 'not.a.token']) {
      const r = await me(apis[which], token);
      expect(r.status).toBe(401);
      expect(r.auth).toBe('Bearer error="invalid_token"');
    }
  });
});

describe('an expired token', () => {
  it('is accepted while it lives and refused by both examples once its lifetime has passed', async () => {
    const short = decodeJwt(tokens.shortLived);
    expect(short.exp! - short.iat!).toBe(SHORT_TTL);
    expect(decodeJwt(tokens.forApi).exp! - decodeJwt(tokens.forApi).iat!).toBe(3600);
    const wait = short.exp! * 1000 + EXPIRY_MARGIN_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const base of [apis.python, apis.typescript]) {
      const r = await me(base, tokens.shortLived);
      expect(r.status).toBe(401);
      expect(r.auth).toBe('Bearer error="invalid_token"');
    }
    // the same token's twin, still alive, is accepted: only the expiry differs
    expect((await me(apis.python, tokens.forApi)).status).toBe(200);
  }, (SHORT_TTL + 30) * 1000);
});

describe('the documentation', () => {
  it('shows the example files word for word', () => {
    const doc = readFileSync(resolve(ROOT, 'docs/resources.md'), 'utf8');
    const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```\w+\n([\s\S]*?)```\n/g)];
    expect(blocks.map((b) => b[1])).toEqual(['examples/api-ts/auth.ts', 'examples/api-ts/server.ts', 'examples/api-python/app.py']);
    for (const [, file, code] of blocks) expect({ file, code }).toEqual({ file, code: readFileSync(resolve(ROOT, file!), 'utf8') });
  });
});
