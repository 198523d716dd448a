// CORS for the account API: browser apps may call it from the origins of registered redirect
// URIs, and from no other origin (DESIGN.md). The set is kept in memory and dropped whenever a
// client changes on any node (the client change feed, src/clients/client-changes.ts, carried
// between nodes by Postgres NOTIFY); the TTL only bounds staleness if a notice is lost.
import type { Context, Next } from 'koa';
import type { ClientService } from '../clients/client.service.ts';
import type { ClientChangeFeed } from '../clients/client-changes.ts';
import { createNotifiedCache } from '../storage/notified-cache.ts';

const ORIGINS_CACHE_MS = 30_000;
/** One entry: the set of allowed origins. */
const ORIGINS_KEY = 'origins';

export function apiCors(clients: ClientService, changes?: Pick<ClientChangeFeed, 'subscribe'>) {
  const cache = createNotifiedCache(async () => {
    const origins = new Set<string>();
    for (const c of await clients.list()) for (const u of c.redirect_uris) { try { origins.add(new URL(u).origin); } catch { /* skip */ } }
    return origins;
  }, { ttlMs: ORIGINS_CACHE_MS, max: 1 });
  // any client's change may add or remove an origin: drop the whole set
  changes?.subscribe(() => cache.invalidate());
  const allowed = () => cache.get(ORIGINS_KEY);
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    const ok = origin && (await allowed()).has(origin);
    if (ok) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Vary', 'Origin');
    }
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      if (ok) {
        ctx.set('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE');
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        ctx.set('Access-Control-Max-Age', '600');
      }
      ctx.status = 204;
      return;
    }
    await next();
  };
}
