// Property-based fuzzing of every route: protocol endpoints (from the discovery document), API
// routes (from the OpenAPI document) and hosted pages (from the routers' sources). Each gets
// malformed, duplicated, oversized, control-character and wrong-type input, with and without a
// signed-in session, CSRF token and admin token. Nothing may answer 5xx, show a stack trace, or
// print one on the server's stderr.
//
// Bounded: a fixed number of requests per route (RUNS), several routes at a time, no shrinking (a failure
// reports the request itself). FUZZ_SEED=<n> replays a run; every failure message names its seed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';
import { openAccount } from '../support/account.ts';
import { csrfOf } from '../../harness/http-agent.ts';

/**
 * Per route: the protocol endpoints (few, and what the outside world calls) get the most, so each
 * of their fields is spoilt with a NUL with near certainty; ~3k requests in all, a few seconds.
 */
const RUNS = { protocol: 40, api: 12, page: 12 };
const RUN_FACTOR = Number(process.env.FUZZ_RUN_FACTOR ?? 1);
/** Routes fuzzed at once: the server is one process on a shared 2-core CI machine. */
const CONCURRENCY = 4;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const REDIRECT = 'http://127.0.0.1:7999/cb';
/** Hosted forms take 32 kB (src/http/body.ts), the provider 56 kB: larger bodies are refused unread. */
const SMALLEST_BODY_LIMIT = 32 * 1024;
const PASSWORD = 'fuzz pass phrase 12345';
const SRC = resolve(import.meta.dirname, '../../src');
/** A line of a JavaScript stack trace, e.g. "    at foo (file:///x.ts:1:2)". */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

interface Route { method: string; path: string; kind: 'protocol' | 'api' | 'page' }

/** Files whose routers are nested under /api: their routes come from the OpenAPI document. */
const API_ROUTER_FILES = /src\/(api\/|admin\/api\.ts|workspaces\/workspace\.api\.ts)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every hosted route our routers declare (router.get('/x', …) under the file's prefix). */
function hostedRoutes(): Route[] {
  const routes: Route[] = [];
  for (const file of sourceFiles(SRC)) {
    if (API_ROUTER_FILES.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    const prefix = /new Router\(\{\s*prefix:\s*'([^']+)'/.exec(text)?.[1] ?? '';
    for (const m of text.matchAll(/\brouter\.(get|post|patch|put|delete)\(\s*'([^']*)'/g)) {
      const path = `${prefix}${m[2] === '/' && prefix ? '' : m[2]}` || '/';
      routes.push({ method: m[1]!.toUpperCase(), path, kind: 'page' });
    }
  }
  return routes;
}

/** Field names the handlers read, so fuzzed values reach their parsing and not only the edge. */
const FIELDS = [
  'email', 'password', 'current_password', 'new_password', 'name', 'given_name', 'family_name', 'picture', 'locale', 'code',
  'method', 'token', 'workspace_id', 'reason', 'slug', 'role', 'roles', 'confirm', 'abort', 'user_code', 'xsrf', 'client_id',
  'client_secret', 'grant_type', 'scope', 'redirect_uri', 'response_type', 'state', 'nonce', 'refresh_token', 'device_code',
  'code_verifier', 'code_challenge', 'code_challenge_method', 'prompt', 'id_token_hint', 'post_logout_redirect_uri',
  'access_token', 'token_type_hint', 'resource', 'claims', 'acr_values', 'login_hint', 'workspace', 'response_mode', 'request',
  'request_uri', 'logout', 'disabled', 'email_verified', 'redirect_uris', 'grant_types', 'require_mfa', 'minutes', 'response', 'id', 'kid',
];

/**
 * A plausible request per endpoint, which each fuzzed request mutates (one field at a time, plus
 * noise): random input alone seldom gets past the first check, a valid request with one bad field does.
 */
function baselineFor(route: Route, creds: Credentials): Record<string, string> {
  const pkce = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  const authorize = { client_id: creds.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile', state: 'st', nonce: 'n', ...pkce };
  const byPath: Record<string, Record<string, string>> = {
    '/auth': authorize,
    '/request': authorize,
    '/token': { grant_type: 'client_credentials', client_id: creds.clientId, scope: 'openid' },
    '/token/introspection': { token: creds.bearer, token_type_hint: 'access_token', client_id: creds.clientId },
    '/token/revocation': { token: creds.bearer, token_type_hint: 'access_token', client_id: creds.clientId },
    '/device/auth': { client_id: creds.clientId, scope: 'openid' },
    '/device': { user_code: 'BCDF-GHJK', xsrf: 'x', confirm: 'yes' },
    '/session/end': { client_id: creds.clientId, post_logout_redirect_uri: REDIRECT, state: 'st' },
    '/session/end/confirm': { xsrf: 'x', logout: 'yes' },
    '/me': { access_token: creds.bearer },
  };
  return byPath[route.path] ?? {
    email: 'fuzz-victim@example.test', password: PASSWORD, name: 'Fuzz', given_name: 'F', locale: 'en', picture: 'https://example.test/p.png',
    code: '123456', method: 'totp', token: 'x', workspace_id: 'w', reason: 'looking into a ticket', slug: 'fuzz', role: 'member',
  };
}

const controlText = fc.constantFrom('\u0000', 'a\u0000b', '\u0001', '\u001b[31m', '\u007f', '\u0085', 'x\u0008', '\r\n', '\t', '\uffff', '\ud800');
const hostile = fc.constantFrom("' OR 1=1 --", '../../etc/passwd', '<script>alert(1)</script>', '%00', '%zz', '{{it}}', '${x}', '__proto__', 'constructor', '-1', '1e309', 'NaN', 'null', 'undefined', '');
const oversized = fc.integer({ min: 5_000, max: 120_000 }).map((n) => 'x'.repeat(n));
const textValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 3, arbitrary: controlText },
  { weight: 2, arbitrary: hostile },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: oversized },
);
const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom(...FIELDS).map((f) => `${f}[]`) },
  { weight: 1, arbitrary: fc.constantFrom(...FIELDS).map((f) => `${f}[a]`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 12 }) },
);
/** Pairs, so a field can come twice (name=a&name=b). */
const pairs = fc.array(fc.tuple(fieldName, textValue), { maxLength: 8 }).chain((ps) =>
  fc.boolean().map((dup) => (dup && ps.length ? [...ps, ps[0]!] : ps)));
const jsonValue = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(textValue, fc.jsonValue({ maxDepth: 3 })), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.array(textValue, { maxLength: 4 }) },
);
const body = fc.oneof(
  { weight: 4, arbitrary: pairs.map((p) => ({ type: 'application/x-www-form-urlencoded', text: new URLSearchParams(p).toString() })) },
  { weight: 3, arbitrary: jsonValue.map((v) => ({ type: 'application/json', text: JSON.stringify(v) })) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,', '\u0000', 'a=%', 'a=%E0%A4%A', '%%%').chain((t) => fc.constantFrom('application/json', 'application/x-www-form-urlencoded').map((type) => ({ type, text: t }))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1'), fc.string({ maxLength: 60 })).map(([type, text]) => ({ type, text })) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const pathParam = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 20 }), controlText.map((s) => s || 'x'), fc.constantFrom('..', '%2e%2e', '%00', 'a%0ab', '%ff', 'x'.repeat(300)));

interface Credentials { cookie: string; csrf: string; bearer: string; basic: string; clientId: string; realIds: string[] }

function requestFor(route: Route) {
  const params = [...route.path.matchAll(/[:{](\w+)\}?/g)].map((m) => m[0]);
  return fc.record({
    params: fc.array(pathParam, { minLength: params.length, maxLength: params.length }),
    realParam: fc.boolean(),
    query: fc.option(pairs, { freq: 2 }),
    body: route.method === 'GET' ? fc.constant(undefined) : body,
    /** which baseline field to spoil, how, and where the baseline goes (query or body) */
    spoil: fc.record({
      field: fc.nat(),
      // a NUL most often: the byte Postgres refuses, so the one that used to reach a 500 deep inside
      value: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', 'x'.repeat(40) + '\u0000') }, { weight: 2, arbitrary: controlText }, { weight: 1, arbitrary: textValue }),
      how: fc.constantFrom('value', 'value', 'value', 'value', 'every', 'every', 'every', 'twice', 'brackets', 'json-type'),
    }),
    wrongType: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 })),
    baseline: fc.constantFrom('body', 'body', 'body', 'query', 'none'),
    signedIn: fc.boolean(),
    csrf: fc.oneof({ weight: 3, arbitrary: fc.constant('real') }, { weight: 1, arbitrary: fc.constant('none') }),
    auth: fc.constantFrom('bearer', 'basic', 'garbage', 'none'),
    accept: fc.constantFrom('text/html', 'application/json', '*/*'),
  }).map((r) => ({ ...r, placeholders: params }));
}

type Req = ReturnType<typeof requestFor> extends fc.Arbitrary<infer T> ? T : never;

/** A lone surrogate cannot be percent-encoded: send what a sloppy client would, its replacement. */
function encodeSegment(value: string): string {
  return encodeURIComponent(value.toWellFormed());
}

function safeObject(text: string): Record<string, unknown> {
  try { const v = JSON.parse(text) as unknown; return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {}; } catch { return {}; }
}

async function send(issuer: string, route: Route, r: Req, creds: Credentials) {
  let path = route.path;
  r.placeholders.forEach((p, i) => {
    const value = r.realParam && creds.realIds.length ? creds.realIds[i % creds.realIds.length]! : r.params[i]!;
    path = path.replace(p, /%[0-9a-f]{2}/i.test(value) ? value : encodeSegment(value));
  });
  // the baseline with one field spoilt, in the body (form or JSON) or the query
  const base = Object.entries(baselineFor(route, creds));
  const target = base[r.spoil.field % base.length]![0];
  const spoilt = (k: string) => r.spoil.how === 'every' || (k === target && r.spoil.how === 'value');
  let basePairs: Array<[string, string]> = base.map(([k, v]) => [k, spoilt(k) ? r.spoil.value : v]);
  if (r.spoil.how === 'twice') basePairs.push([target, r.spoil.value]);
  if (r.spoil.how === 'brackets') basePairs = basePairs.map(([k, v]) => [k === target ? `${k}[]` : k, v]);
  const jsonBase: Record<string, unknown> = Object.fromEntries(basePairs);
  if (r.spoil.how === 'json-type') jsonBase[target] = r.wrongType;
  const onQuery = r.baseline === 'query' || (r.baseline === 'body' && route.method === 'GET');
  const queryPairs = [...(onQuery ? basePairs : []), ...(r.query ?? [])];
  const query = queryPairs.length ? `?${new URLSearchParams(queryPairs).toString()}` : '';
  const headers: Record<string, string> = { accept: r.accept };
  if (r.signedIn) headers.cookie = creds.cookie;
  if (r.auth === 'bearer') headers.authorization = `Bearer ${creds.bearer}`;
  if (r.auth === 'basic') headers.authorization = `Basic ${creds.basic}`;
  if (r.auth === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe.x';
  let text = r.body?.text;
  let type = r.body?.type;
  if (r.baseline === 'body' && route.method !== 'GET') {
    if (route.kind === 'api') {
      type = 'application/json';
      text = JSON.stringify({ ...jsonBase, ...(r.body?.type === 'application/json' ? safeObject(r.body.text) : {}) });
    } else {
      type = 'application/x-www-form-urlencoded';
      text = [new URLSearchParams(basePairs).toString(), r.body?.type === type ? r.body.text : ''].filter(Boolean).join('&');
    }
  }
  if (text !== undefined && r.csrf === 'real' && type === 'application/x-www-form-urlencoded') {
    text = `_csrf=${encodeURIComponent(creds.csrf)}${text ? `&${text}` : ''}`;
  }
  if (type) headers['content-type'] = type;
  const url = `${route.method} ${path}${query.slice(0, 300)}`;
  let res: Response;
  const request = () => fetch(`${issuer}${path}${query}`, { method: route.method, headers, body: text, redirect: 'manual' });
  try {
    // once more on a fresh connection: a kept-alive one may have been closed by the server after it
    // refused another request's oversized body unread
    res = await request().catch(request);
  } catch (e) {
    // a server may answer an oversized body before reading it and close the connection while the
    // client still writes: no 5xx, just no answer to read
    if ((text?.length ?? 0) > SMALLEST_BODY_LIMIT) return { status: 0, answer: '', url };
    throw new Error(`${url}: ${(e as Error).message} (${String((e as { cause?: unknown }).cause)})\nheaders: ${JSON.stringify(headers).slice(0, 400)}\nbody (${text?.length ?? 0} chars): ${text?.slice(0, 600)}`);
  }
  const answer = await res.text();
  return { status: res.status, answer, url };
}

async function fuzz(gh: TestServer, routes: Route[], creds: Credentials): Promise<void> {
  const queue = [...routes];
  const failures: string[] = [];
  const worker = async () => {
    for (let route = queue.shift(); route; route = queue.shift()) {
      const r = route;
      const result = await fc.check(fc.asyncProperty(requestFor(r), async (req) => {
        const { status, answer, url } = await send(gh.issuer, r, req, creds);
        if (status >= 500 || STACK_LINE.test(answer)) {
          throw new Error(`${url} → ${status}\nrequest: ${JSON.stringify({ ...req, body: req.body && { ...req.body, text: req.body.text.slice(0, 500) } })}\nanswer: ${answer.slice(0, 800)}`);
        }
      }), { seed: SEED, numRuns: Math.max(1, Math.round(RUNS[r.kind] * RUN_FACTOR)), endOnFailure: true });
      if (result.failed) failures.push(`${r.method} ${r.path} (seed ${SEED}): ${String((result.errorInstance as Error)?.message ?? result.errorInstance)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // what the server logged about its errors, to go with the failing requests
  if (failures.length) failures.push(...gh.log().split('\n').filter((l) => l.includes('"level":50')).slice(-5).map((l) => l.slice(0, 1500)));
  expect(failures).toEqual([]);
  expect(gh.stderr()).not.toMatch(STACK_LINE);
}

/** The protocol endpoints the discovery document names, each with the methods it answers. */
async function protocolRoutes(issuer: string): Promise<Route[]> {
  const doc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  const paths = Object.entries(doc)
    .filter(([k, v]) => (k.endsWith('_endpoint') || k === 'jwks_uri') && typeof v === 'string')
    .map(([, v]) => new URL(v as string).pathname);
  // not in discovery: the device flow's code page (RFC 8628 verification_uri) and logout's confirm form
  paths.push('/device', '/device/:uid', '/session/end/confirm', '/.well-known/openid-configuration');
  return [...new Set(paths)].flatMap((path) => ['GET', 'POST'].map((method) => ({ method, path, kind: 'protocol' as const })));
}

async function apiRoutes(issuer: string): Promise<Route[]> {
  const doc = await (await fetch(`${issuer}/api/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops)
    .filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))
    .map((m) => ({ method: m.toUpperCase(), path, kind: 'api' as const })));
}

async function credentialsFor(gh: TestServer): Promise<Credentials> {
  // every scope the server offers (offline_access aside: its consent step is not what is fuzzed)
  const doc = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json() as { scopes_supported: string[] };
  const scopes = doc.scopes_supported.filter((s) => s !== 'offline_access').join(' ');
  const client = await gh.cliJson(['clients', 'create', '--name', 'Fuzz', '--redirect-uri', REDIRECT, '--scopes', scopes]);
  await gh.cliJson(['users', 'create', '--email', 'fuzz-admin@example.test', '--password', PASSWORD, '--admin']);
  const victim = await gh.cliJson(['users', 'create', '--email', 'fuzz-victim@example.test', '--password', PASSWORD]);
  const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
  const { tokens } = await signIn(cfg, {
    issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT,
    email: 'fuzz-admin@example.test', password: PASSWORD, scope: scopes,
  });
  const { agent, page } = await openAccount(gh.issuer, '/account', { email: 'fuzz-admin@example.test', password: PASSWORD });
  return {
    cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    csrf: csrfOf(page.html),
    bearer: tokens.access_token,
    basic: Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64'),
    clientId: client.client_id,
    realIds: [victim.id, client.client_id],
  };
}

describe('fuzz: Postgres + Redis', () => {
  let gh: TestServer;
  let creds: Credentials;
  beforeAll(async () => {
    gh = await startServer();
    creds = await credentialsFor(gh);
  }, 60_000);
  afterAll(async () => { await gh?.destroy(); });

  it('finds every kind of route', async () => {
    const hosted = hostedRoutes();
    expect(hosted.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /account/profile', 'POST /interaction/:uid/login', 'GET /account/forgot']));
    expect((await apiRoutes(gh.issuer)).map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['PATCH /api/me', 'GET /api/admin/users']));
    expect((await protocolRoutes(gh.issuer)).map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /token', 'GET /auth', 'POST /device/auth']));
  });

  it(`answers no route with a 5xx or a stack trace (seed ${SEED})`, async () => {
    const routes = [...await protocolRoutes(gh.issuer), ...await apiRoutes(gh.issuer), ...hostedRoutes()];
    await fuzz(gh, routes, creds);
  }, 180_000);
});

describe('fuzz: the embedded store', () => {
  let gh: TestServer;
  let creds: Credentials;
  beforeAll(async () => {
    gh = await startServer({ embedded: true });
    creds = await credentialsFor(gh);
  }, 60_000);
  afterAll(async () => { await gh?.destroy(); });

  // where the embedded store differs: the provider's records (tokens, sessions, codes) are in SQL
  it(`answers no protocol endpoint with a 5xx or a stack trace (seed ${SEED})`, async () => {
    await fuzz(gh, await protocolRoutes(gh.issuer), creds);
  }, 120_000);
});
