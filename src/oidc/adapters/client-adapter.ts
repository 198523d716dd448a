// The provider asks for clients by id; they live in Postgres (src/clients). Registration through
// the provider is off, so only find() is used.
//
// find() runs on every token, refresh, introspection and revocation request, so clients are kept in
// memory: dropped at once when one changes (src/clients/client-changes.ts tells every node), and in
// any case after CLIENT_CACHE_TTL_MS, the most a node that missed a change message can lag behind.
import type { ClientService } from '../../clients/client.service.ts';
import type { ClientChangeFeed } from '../../clients/client-changes.ts';
import type { Adapter } from '../../storage/short-lived-store.ts';
import { createNotifiedCache } from '../../storage/notified-cache.ts';

/** Bounded staleness if a change message is lost (e.g. while a node's listener reconnects). */
const CLIENT_CACHE_TTL_MS = 30_000;
/** Bounded memory: a deployment with more live clients than this just queries for the rest. */
const CLIENT_CACHE_MAX_ENTRIES = 1000;

export function createClientAdapter(clients: ClientService, changes?: Pick<ClientChangeFeed, 'subscribe'>): Adapter {
  const unsupported = async () => { throw new Error('clients are managed by Gatehouse, not the provider'); };
  // Unknown ids are not kept: a client created a moment later must work at once.
  const cache = createNotifiedCache((id) => clients.providerMetadata(id), {
    ttlMs: CLIENT_CACHE_TTL_MS, max: CLIENT_CACHE_MAX_ENTRIES, keep: (metadata) => metadata !== undefined,
  });
  changes?.subscribe((clientId) => cache.invalidate(clientId));

  return {
    async find(id) {
      const metadata = await cache.get(id);
      return metadata && { ...metadata }; // the provider may change what it is given
    },
    upsert: unsupported,
    findByUid: unsupported,
    findByUserCode: unsupported,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => {},
  };
}
