// The provider asks for clients by id; they live in Postgres (src/clients). Registration through
// the provider is off, so only find() is used.
//
// find() runs on every token, refresh, introspection and revocation request, so clients are kept in
// memory: dropped at once when one changes (src/clients/client-changes.ts tells every node), and in
// any case after CLIENT_CACHE_TTL_MS, the most a node that missed a change message can lag behind.
import type { ClientService } from '../../clients/client.service.ts';
import type { ClientChangeFeed } from '../../clients/client-changes.ts';
import type { Adapter, Payload } from './types.ts';

/** Bounded staleness if a change message is lost (e.g. while a node's listener reconnects). */
const CLIENT_CACHE_TTL_MS = 30_000;
/** Bounded memory: a deployment with more live clients than this just queries for the rest. */
const CLIENT_CACHE_MAX_ENTRIES = 1000;

interface Entry { metadata: Payload; expiresAt: number }

export function createClientAdapter(clients: ClientService, changes?: Pick<ClientChangeFeed, 'subscribe'>): Adapter {
  const unsupported = async () => { throw new Error('clients are managed by Gatehouse, not the provider'); };
  const cache = new Map<string, Entry>(); // insertion order = least recently loaded first
  const loading = new Map<string, Promise<Payload | undefined>>();
  // Bumped by every change, so a load that was already under way when a change arrived is not cached.
  let generation = 0;

  changes?.subscribe((clientId) => {
    generation++;
    if (clientId === undefined) cache.clear(); else cache.delete(clientId);
  });

  async function load(id: string): Promise<Payload | undefined> {
    const started = generation;
    const metadata = await clients.providerMetadata(id);
    // Unknown ids are not cached: a client created a moment later must work at once.
    if (metadata && started === generation) {
      if (cache.size >= CLIENT_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(id, { metadata, expiresAt: Date.now() + CLIENT_CACHE_TTL_MS });
    }
    return metadata;
  }

  return {
    async find(id) {
      const hit = cache.get(id);
      if (hit && hit.expiresAt > Date.now()) return { ...hit.metadata };
      cache.delete(id);
      // one query for a burst of requests naming the same client
      let pending = loading.get(id);
      if (!pending) {
        pending = load(id).finally(() => loading.delete(id));
        loading.set(id, pending);
      }
      const metadata = await pending;
      return metadata && { ...metadata };
    },
    upsert: unsupported,
    findByUid: unsupported,
    findByUserCode: unsupported,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => {},
  };
}
