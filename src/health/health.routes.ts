// Three questions a load balancer or an operator may ask a node (docs/configuration.md, "What a load
// balancer should probe"):
//   /healthz         liveness: the process answers. Restart it only when this fails.
//   /readyz          readiness: this node can serve: it booted, migrated, loaded its signing keys
//                    (the server listens only after all three) and is not shutting down. The stores'
//                    state is reported, not judged: a Redis or Postgres outage reaches every node
//                    at once, so a node whose store is down is no worse than its peers, and taking
//                    them all out would also take discovery and JWKS, which need no store. During
//                    an outage /readyz stays 200 with `"status": "degraded"` and names the store.
//   /healthz/stores  the stores alone: 503 when one is unavailable (for alerting, or for a load
//                    balancer in front of nodes that do not share their stores).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Redis } from 'ioredis';

/** Under the 2 s in which requests that need a store answer 503, so a probe never outwaits them. */
const CHECK_TIMEOUT_MS = 1500;

/** Set by the server when it starts shutting down: a draining node is no longer ready. */
export interface NodeState { shuttingDown: boolean }

type StoreCheck = 'ok' | 'unavailable' | 'not configured (embedded store)';

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS); timer.unref(); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function check(probe: () => Promise<unknown>): Promise<StoreCheck> {
  try { await withTimeout(probe()); return 'ok'; } catch { return 'unavailable'; }
}

export interface HealthDeps {
  /** asks the durable store a trivial question (src/storage/instrument.ts: databaseProbe) */
  database: () => Promise<unknown>;
  redis?: Pick<Redis, 'ping'>;
  node: NodeState;
}

export function createHealthRouter(deps: HealthDeps): Router {
  const router = new Router();

  async function stores(): Promise<{ checks: Record<string, StoreCheck>; degraded: string[] }> {
    const [database, redis] = await Promise.all([
      check(deps.database),
      deps.redis ? check(() => deps.redis!.ping()) : Promise.resolve<StoreCheck>('not configured (embedded store)'),
    ]);
    const checks = { database, redis };
    return { checks, degraded: Object.entries(checks).filter(([, v]) => v === 'unavailable').map(([k]) => k) };
  }

  const answer = (ctx: Context, status: number, body: unknown) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = status;
    ctx.body = body;
  };

  router.get('/healthz', (ctx) => answer(ctx, 200, { status: 'ok' }));

  router.get('/readyz', async (ctx) => {
    if (deps.node.shuttingDown) return answer(ctx, 503, { status: 'shutting_down' });
    const { checks, degraded } = await stores();
    // checked again: the node may have begun to drain while the stores were asked
    if (deps.node.shuttingDown) return answer(ctx, 503, { status: 'shutting_down' });
    answer(ctx, 200, degraded.length ? { status: 'degraded', degraded, checks } : { status: 'ready', checks });
  });

  router.get('/healthz/stores', async (ctx) => {
    const { checks, degraded } = await stores();
    answer(ctx, degraded.length ? 503 : 200, degraded.length ? { status: 'degraded', degraded, checks } : { status: 'ok', checks });
  });
  return router;
}
