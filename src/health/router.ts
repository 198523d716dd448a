// /healthz: the process is up. /readyz: Postgres and Redis answer (what a load balancer should ask).
import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';

const CHECK_TIMEOUT_MS = 1500;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref())]);
}

export function createHealthRouter(deps: { knex: Knex; redis?: Redis; embedded: boolean }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks: Record<string, string> = {};
    try { await withTimeout(deps.knex.raw('select 1')); checks.database = 'ok'; } catch { checks.database = 'unavailable'; }
    if (deps.redis) {
      try { await withTimeout(deps.redis.ping()); checks.redis = 'ok'; } catch { checks.redis = 'unavailable'; }
    } else {
      checks.redis = 'not configured (embedded store)';
    }
    const ready = !Object.values(checks).includes('unavailable');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  });
  return router;
}
