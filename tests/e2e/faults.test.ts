// Faults with the real servers: Redis killed mid-load and Postgres refusing connections answer
// fast 503s with a clear error (no hang, no 500, no crash), and Gatehouse recovers without a
// restart when they come back. SIGTERM lets an in-flight request finish before the process exits.
// Redis is a redis-server of this suite's own; Postgres is the shared server, so the outage is one
// database refusing connections (ALLOW_CONNECTIONS false), never the whole cluster.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.ts';
import { startOwnRedis, startStallingProxy, type OwnRedis } from '../support/redis-server.ts';
import { Redis } from 'ioredis';
import { discover, signIn } from '../../harness/http-agent.ts';
import { requireReal } from '../support/env.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const EMAIL = 'faults@example.test';
const PASSWORD = 'storms come and go';
/** The issue's bound for an answer while a store is down. */
const FAST_MS = 3000;
/** How long recovery may take once a store is back (reconnect backoff is at most a second). */
const RECOVERY_MS = 10_000;
const WORKERS = 4;

let redis: OwnRedis;
let gh: TestServer;
let client: { client_id: string; client_secret: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const tokenRequest = (body: Record<string, string>) => fetch(`${gh.issuer}/token`, {
  method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(body), signal: AbortSignal.timeout(15_000),
});

interface Sample { status: number; ms: number; at: number; body: string }

/** Sends requests back to back from a few workers until stopped; status 0 is a network failure or a hang. */
function hammer(send: () => Promise<Response>): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const at = Date.now();
      try {
        const res = await send();
        samples.push({ status: res.status, ms: Date.now() - at, at, body: await res.text() });
      } catch (e) {
        samples.push({ status: 0, ms: Date.now() - at, at, body: String(e) });
        await sleep(20);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  return { samples, async stop() { running = false; await Promise.all(workers); } };
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(100);
  }
}

async function signInTokens() {
  const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
  const { tokens } = await signIn(cfg, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: EMAIL, password: PASSWORD });
  return tokens;
}

beforeAll(async () => {
  redis = await startOwnRedis();
  // no account cache: the Postgres outage below must be felt by refresh and userinfo
  // (with the cache they ride through it; tests/e2e/metrics.test.ts covers the cache)
  gh = await startServer({ env: { REDIS_URL: redis.url, GATEHOUSE_ACCOUNT_CACHE_SECONDS: '0' } });
  client = await gh.cliJson(['clients', 'create', '--name', 'Faults', '--redirect-uri', REDIRECT,
    '--grant-types', 'authorization_code,refresh_token,client_credentials']);
  await gh.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD]);
});
afterAll(async () => {
  await gh?.destroy();
  await redis?.stop();
});

/** A counter's value on /metrics (0 when it has no sample yet). */
async function counter(series: string): Promise<number> {
  const text = await (await fetch(`${gh.issuer}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('Redis stops mid-load', () => {
  it('answers fast 503s with a clear error, never a 500 or a hang, and recovers when Redis returns', async () => {
    const load = hammer(() => tokenRequest({ grant_type: 'client_credentials' }));
    await sleep(500);
    const killedAt = Date.now();
    await redis.kill();
    await sleep(1500);

    const ready = await fetch(`${gh.issuer}/readyz`);
    // still ready (every node shares the outage; discovery and JWKS need no store), degraded, naming it
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'unavailable' } });
    // a hosted page in the browser: the error page, not a stack trace or the provider's 500
    const page = await fetch(`${gh.issuer}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, {
      headers: { accept: 'text/html' }, redirect: 'manual', signal: AbortSignal.timeout(FAST_MS),
    });
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('Temporarily unavailable');

    const restartedAt = Date.now();
    await redis.start();
    await until(async () => ((await tokenRequest({ grant_type: 'client_credentials' })).status === 200 ? true : undefined), RECOVERY_MS);
    await load.stop();

    const { samples } = load;
    expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
    expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(FAST_MS);
    const during = samples.filter((s) => s.at > killedAt + 200 && s.at < restartedAt);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => s.status === 503)).toBe(true);
    expect(JSON.parse(during[0]!.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(samples.some((s) => s.at > restartedAt && s.status === 200)).toBe(true);

    // the same process, whole again: a full sign-in and a refresh on the fresh Redis
    expect((await fetch(`${gh.issuer}/healthz`)).status).toBe(200);
    const tokens = await signInTokens();
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);

    // operators see it: the 503s, and the connection errors behind them
    expect(await counter('gatehouse_backend_errors_total{backend="redis"}')).toBeGreaterThan(0);
    expect(await counter('gatehouse_store_errors_total{backend="redis"}')).toBeGreaterThan(0);
  });
});

describe('Postgres refuses connections', () => {
  const dbName = () => new URL(gh.env.DATABASE_URL!).pathname.slice(1);
  async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: requireReal().databaseUrl });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  }
  const outage = () => admin(async (c) => {
    await c.query(`alter database ${dbName()} allow_connections false`);
    await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName()]);
  });
  const restore = () => admin((c) => c.query(`alter database ${dbName()} allow_connections true`));

  it('answers fast 503s while the database is away and recovers without a restart; a failed refresh spends nothing', async () => {
    const tokens = await signInTokens();
    await outage();
    try {
      let started = Date.now();
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      expect(Date.now() - started).toBeLessThan(FAST_MS);
      expect(refresh.status).toBe(503);
      expect(refresh.headers.get('retry-after')).toBeTruthy();
      expect(await refresh.json()).toMatchObject({ error: 'temporarily_unavailable' });

      started = Date.now();
      const userinfo = await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` }, signal: AbortSignal.timeout(FAST_MS * 2) });
      expect(Date.now() - started).toBeLessThan(FAST_MS);
      expect(userinfo.status).toBe(503);

      const ready = await fetch(`${gh.issuer}/readyz`);
      // still ready (every node shares the outage; discovery and JWKS need no store), degraded, naming it
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { database: 'unavailable' } });

      // a client already loaded is served from memory: machine-to-machine tokens keep working
      expect((await tokenRequest({ grant_type: 'client_credentials' })).status).toBe(200);
    } finally {
      await restore();
    }
    // the refresh token that failed during the outage was not consumed: it works now
    const refreshed = await until(async () => {
      const res = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      if (res.status === 503) return undefined;
      return res;
    }, RECOVERY_MS);
    expect(refreshed.status).toBe(200);
    expect(await (await fetch(`${gh.issuer}/readyz`)).json()).toMatchObject({ status: 'ready' });
    expect(await counter('gatehouse_backend_errors_total{backend="postgres"}')).toBeGreaterThan(0);
    expect(await counter('gatehouse_store_errors_total{backend="postgres"}')).toBeGreaterThan(0);
  });
});

/** The Redis client's command timeout (src/storage/redis.ts): the most a frozen Redis may cost. */
const COMMAND_TIMEOUT_MS = 2000;
/** Slack for a loaded CI machine on top of it. */
const SLACK_MS = 900;
/** Once a node has met the frozen Redis, a request that needs it is answered well within this. */
const FAIL_FAST_MS = 700;

describe('Redis freezes (SIGSTOP: connections stay open, nothing answers)', () => {
  it('costs a request at most one command timeout, later requests fail fast, every one a 503 with Retry-After', async () => {
    const tokens = await signInTokens();
    const introspect = () => fetch(`${gh.issuer}/token/introspection`, {
      method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token! }), signal: AbortSignal.timeout(15_000),
    });
    const requests: Array<[string, () => Promise<Response>]> = [
      ['client_credentials', () => tokenRequest({ grant_type: 'client_credentials' })],
      ['refresh', () => tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })],
      ['introspection', introspect],
      ['userinfo', () => fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` }, signal: AbortSignal.timeout(15_000) })],
      ['authorize page', () => fetch(`${gh.issuer}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, {
        headers: { accept: 'text/html' }, redirect: 'manual', signal: AbortSignal.timeout(15_000),
      })],
    ];
    redis.freeze();
    const answers: Array<{ name: string; status: number; ms: number; retryAfter: string | null }> = [];
    try {
      for (const round of [0, 1]) {
        for (const [name, send] of requests) {
          const started = Date.now();
          const res = await send();
          await res.arrayBuffer();
          answers.push({ name: `${name}#${round}`, status: res.status, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') });
        }
      }
    } finally {
      redis.thaw();
    }
    for (const a of answers) expect(a).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
    // the first request meets the frozen connection and waits one timeout, not two
    expect(answers[0]!.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    // the connection is then known to be down: nobody waits for it again
    expect(answers.slice(1).filter((a) => a.ms >= FAIL_FAST_MS)).toEqual([]);

    // thawed: back without a restart, and nothing was half done (the refresh token still works)
    await until(async () => ((await tokenRequest({ grant_type: 'client_credentials' })).status === 200 ? true : undefined), RECOVERY_MS);
    const refreshed = await until(async () => {
      const res = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      return res.status === 503 ? undefined : res;
    }, RECOVERY_MS);
    expect(refreshed.status).toBe(200);
  }, 60_000);
});

describe('Redis answers with error replies (out of memory)', () => {
  it('answers 503 with Retry-After, on the provider\'s endpoints and the hosted pages, never a 500', async () => {
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    // noeviction and no room: every write is refused with OOM (inside MULTI: EXECABORT)
    await admin.config('SET', 'maxmemory', '1');
    try {
      const token = await tokenRequest({ grant_type: 'client_credentials' });
      expect(token.status).toBe(503);
      expect(token.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const page = await fetch(`${gh.issuer}/auth?client_id=${client.client_id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, {
        headers: { accept: 'text/html' }, redirect: 'manual', signal: AbortSignal.timeout(FAST_MS),
      });
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await admin.quit();
    }
    expect((await tokenRequest({ grant_type: 'client_credentials' })).status).toBe(200);
  });
});

describe('a refresh whose new token could not be stored', () => {
  // Redis stops answering right after the old refresh token was consumed, before the new one is
  // saved (a proxy holds back everything the node sends after the consume). The client is told 503;
  // its retry must not read as a replay that revokes the grant.
  it('is retried successfully; a genuine replay of a rotated token still revokes the grant', async () => {
    const proxy = await startStallingProxy(redis.port);
    const node = await startServer({ shareWith: gh, env: { REDIS_URL: proxy.url, GATEHOUSE_ACCOUNT_CACHE_SECONDS: '0' } });
    const refresh = (refreshToken: string) => fetch(`${node.issuer}/token`, {
      method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }), signal: AbortSignal.timeout(15_000),
    });
    try {
      const tokens = await signInTokens();
      const original = tokens.refresh_token!;
      proxy.stallAfter(original, /\r\neval(sha)?\r\n/i); // the consume of the presented token (a script), and then silence
      const failed = await refresh(original);
      expect({ stalled: proxy.stalled(), status: failed.status }).toEqual({ stalled: 1, status: 503 });
      expect(failed.status).toBe(503);
      const wait = Number(failed.headers.get('retry-after'));
      expect(wait).toBeGreaterThan(0);
      expect(await failed.json()).toMatchObject({ error: 'temporarily_unavailable' });

      // retried as Retry-After invites: the same refresh token rotates, the grant is intact
      await sleep(wait * 1000);
      const retried = await until(async () => {
        const res = await refresh(original);
        return res.status === 503 ? undefined : res;
      }, RECOVERY_MS);
      expect(retried.status).toBe(200);
      const rotated = await retried.json() as { refresh_token: string; access_token: string };
      const next = await refresh(rotated.refresh_token);
      expect(next.status).toBe(200);
      const newest = await next.json() as { refresh_token: string };

      // a genuine replay: the token rotated (and answered) before is presented again
      const replay = await refresh(rotated.refresh_token);
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
      const afterReplay = await refresh(newest.refresh_token);
      expect(afterReplay.status).toBe(400); // the grant was revoked with everything it issued
    } finally {
      await node.stop();
      await proxy.close();
    }
  }, 90_000);
});

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, refuses new connections, then exits', async () => {
    const node = await startServer({ shareWith: gh, env: { REDIS_URL: redis.url, GATEHOUSE_ACCOUNT_CACHE_SECONDS: '0' } });
    const body = 'grant_type=client_credentials';
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: node.port, path: '/token', method: 'POST',
        headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
      }, (res) => {
        let text = '';
        res.on('data', (d) => { text += String(d); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      // the request is in flight: headers sent, the body still coming
      req.write(body.slice(0, 10));
      setTimeout(async () => {
        stopping = node.stop();
        await sleep(500);
        refused = await fetch(`${node.issuer}/healthz`).then(() => false, () => true);
        req.end(body.slice(10));
      }, 300);
    });
    let stopping: Promise<void> | undefined;
    let refused = false;
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).access_token).toBeTruthy();
    expect(refused).toBe(true);
    const exitStarted = Date.now();
    await stopping;
    expect(Date.now() - exitStarted).toBeLessThan(FAST_MS);
    expect(await node.exited()).toBe(0);
  });
});

describe('what the request log and the metrics record for a 503 at /token', () => {
  /** A counter's value on a server's /metrics (0 when it has no sample yet). */
  async function counterAt(server: TestServer, series: string): Promise<number> {
    const text = await (await fetch(`${server.issuer}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }
  /** The server's request lines for one request id. */
  function requestLinesOf(server: TestServer, id: string): Array<{ status: number; path: string }> {
    return server.log().split('\n').filter((l) => l.includes(`"req_id":"${id}"`))
      .map((l) => JSON.parse(l) as { msg: string; status: number; path: string }).filter((l) => l.msg === 'request');
  }
  const TOKEN_200 = 'gatehouse_http_requests_total{method="POST",route="/token",status="200"}';
  const TOKEN_503 = 'gatehouse_http_requests_total{method="POST",route="/token",status="503"}';

  it('records the 503 a refresh was answered with when its final store write failed, and a rotation in flight as no store error', async () => {
    const proxy = await startStallingProxy(redis.port);
    const node = await startServer({ shareWith: gh, env: { REDIS_URL: proxy.url, GATEHOUSE_ACCOUNT_CACHE_SECONDS: '0' } });
    const refresh = (server: TestServer, refreshToken: string, requestId: string) => fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': requestId },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }), signal: AbortSignal.timeout(15_000),
    });
    try {
      // the new tokens are stored (the access token last), then the write that makes the rotation
      // final never reaches Redis: answerStoreFailures (src/oidc/provider-pages.ts) answers 503 after the
      // handler had set 200
      const first = await signInTokens();
      const [ok, unavailable] = [await counterAt(node, TOKEN_200), await counterAt(node, TOKEN_503)];
      proxy.stallAfter('oidc:AccessToken:');
      const settleFailed = await refresh(node, first.refresh_token!, 'faults-settle-failed');
      expect({ stalled: proxy.stalled(), status: settleFailed.status }).toEqual({ stalled: 1, status: 503 });
      const lines = await until(async () => { const l = requestLinesOf(node, 'faults-settle-failed'); return l.length ? l : undefined; }, RECOVERY_MS);
      expect(lines).toEqual([expect.objectContaining({ path: '/token', status: 503 })]);
      expect(await counterAt(node, TOKEN_503)).toBe(unavailable + 1);
      expect(await counterAt(node, TOKEN_200)).toBe(ok);

      // a rotation left pending by a failed refresh on one node; the same token at another node
      // within the settle time is a 503 too, but no store failed there: not a backend error
      const second = await signInTokens();
      proxy.stallAfter(second.refresh_token!, /\r\neval(sha)?\r\n/i);
      expect((await refresh(node, second.refresh_token!, 'faults-consume-stalled')).status).toBe(503);
      const [backendErrors, pending] = [
        await counter('gatehouse_backend_errors_total{backend="redis"}'), await counter('gatehouse_refresh_rotations_pending_total'),
      ];
      const inFlight = await refresh(gh, second.refresh_token!, 'faults-rotation-pending');
      expect(inFlight.status).toBe(503);
      expect(inFlight.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await counter('gatehouse_refresh_rotations_pending_total')).toBe(pending + 1);
      expect(await counter('gatehouse_backend_errors_total{backend="redis"}')).toBe(backendErrors);
      const pendingLines = await until(async () => { const l = requestLinesOf(gh, 'faults-rotation-pending'); return l.length ? l : undefined; }, RECOVERY_MS);
      expect(pendingLines).toEqual([expect.objectContaining({ path: '/token', status: 503 })]);
    } finally {
      await node.stop();
      await proxy.close();
    }
  }, 90_000);
});
