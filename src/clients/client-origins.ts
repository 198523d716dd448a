// The origins browser apps may call the JSON APIs from: those of registered redirect URIs
// (DESIGN.md), for the CORS policy (src/api/cors.ts). The set is kept in memory and dropped
// whenever a client changes on any node (the client change feed, src/clients/client-changes.ts,
// carried between nodes by Postgres NOTIFY); the TTL only bounds staleness if a notice is lost.
import type { ClientService } from './client.service.ts';
import type { ClientChangeFeed } from './client-changes.ts';
import { createNotifiedCache } from '../storage/notified-cache.ts';

const ORIGINS_CACHE_MS = 30_000;
/** One entry: the set of allowed origins. */
const ORIGINS_KEY = 'origins';

export function createClientOrigins(clients: Pick<ClientService, 'list'>, changes?: Pick<ClientChangeFeed, 'subscribe'>): () => Promise<Set<string>> {
  const cache = createNotifiedCache(async () => {
    const origins = new Set<string>();
    for (const c of await clients.list()) for (const u of c.redirect_uris) { try { origins.add(new URL(u).origin); } catch { /* skip */ } }
    return origins;
  }, { ttlMs: ORIGINS_CACHE_MS, max: 1 });
  // any client's change may add or remove an origin: drop the whole set
  changes?.subscribe(() => cache.invalidate());
  return () => cache.get(ORIGINS_KEY);
}
