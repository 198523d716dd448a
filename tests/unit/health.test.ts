// The health router's answers, with stand-in stores: ready, degraded (which store), shutting down.
import { describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import type { Redis } from 'ioredis';
import { createHealthRouter, type HealthDeps, type NodeState } from '../../src/health/health.routes.ts';

const up = async () => ({ rows: [{ '?column?': 1 }] });
const down = async () => { throw new Error('connect ECONNREFUSED'); };
const redisUp = { ping: async () => 'PONG' } as unknown as Redis;
const redisDown = { ping: async () => { throw new Error('Connection is closed.'); } } as unknown as Redis;

async function serve(deps: HealthDeps, fn: (get: (p: string) => Promise<{ status: number; body: any }>) => Promise<void>) {
  const app = new Koa();
  app.use(createHealthRouter(deps).routes());
  const server: Server = createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  try {
    await fn(async (p) => { const r = await fetch(`http://127.0.0.1:${port}${p}`); return { status: r.status, body: await r.json() }; });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('health router', () => {
  it('ready when both stores answer', () => serve({ database: up, redis: redisUp, node: { shuttingDown: false } }, async (get) => {
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } } });
    expect((await get('/healthz/stores')).status).toBe(200);
  }));

  it('a store outage leaves the node ready, degraded, and fails /healthz/stores', () => serve({ database: down, redis: redisDown, node: { shuttingDown: false } }, async (get) => {
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'degraded', degraded: ['database', 'redis'], checks: { database: 'unavailable', redis: 'unavailable' } } });
    expect(await get('/healthz/stores')).toMatchObject({ status: 503, body: { degraded: ['database', 'redis'] } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  }));

  it('the embedded store has no Redis to miss', () => serve({ database: up, node: { shuttingDown: false } }, async (get) => {
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { redis: 'not configured (embedded store)' } } });
  }));

  it('a draining node is not ready, though alive', async () => {
    const node = { shuttingDown: false };
    await serve({ database: up, redis: redisUp, node }, async (get) => {
      node.shuttingDown = true;
      expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'shutting_down' } });
      expect((await get('/healthz')).status).toBe(200);
    });
  });
});
