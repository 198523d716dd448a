// Liveness, readiness and degraded are three answers: while Redis is away every node stays ready
// (a load balancer keeps them all, and discovery and JWKS go on being served), says "degraded" and
// names the store; /healthz/stores fails for alerting; all is well again when Redis returns.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.ts';

const RECOVERY_MS = 15_000;
let gh: TestServer;
let redis: OwnRedis;

beforeAll(async () => {
  redis = await startOwnRedis();
  gh = await startServer({ env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await gh?.destroy();
  await redis?.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${gh.issuer}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() as Record<string, any> };
};

describe('health endpoints', () => {
  it('on a healthy node: all three answer 200 JSON', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await get('/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } } });
    expect(ready.type).toContain('application/json');
    expect(await get('/healthz/stores')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('while Redis is down: still ready but degraded, naming Redis; discovery and JWKS still served', async () => {
    await redis.kill();
    try {
      const ready = await get('/readyz');
      expect(ready).toMatchObject({ status: 200, body: { status: 'degraded', degraded: ['redis'], checks: { database: 'ok', redis: 'unavailable' } } });
      expect(await get('/healthz/stores')).toMatchObject({ status: 503, body: { status: 'degraded', degraded: ['redis'] } });
      expect(await get('/healthz')).toMatchObject({ status: 200 });
      const discovery = await get('/.well-known/openid-configuration');
      expect(discovery.status).toBe(200);
      expect((await get(new URL(discovery.body.jwks_uri).pathname)).body.keys.length).toBeGreaterThan(0);
    } finally {
      await redis.start();
    }
    const started = Date.now();
    for (;;) {
      const ready = await get('/readyz');
      if (ready.body.status === 'ready') break;
      if (Date.now() - started > RECOVERY_MS) throw new Error(`still ${JSON.stringify(ready.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await get('/healthz/stores')).toMatchObject({ status: 200 });
  });
});
