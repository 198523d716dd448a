// The provider asks for clients by id; they live in Postgres (src/clients). Registration through
// the provider is off, so only find() is used.
import type { ClientService } from '../../clients/client.service.ts';
import type { Adapter } from './types.ts';

export function createClientAdapter(clients: ClientService): Adapter {
  const unsupported = async () => { throw new Error('clients are managed by Gatehouse, not the provider'); };
  return {
    find: (id) => clients.providerMetadata(id),
    upsert: unsupported,
    findByUid: unsupported,
    findByUserCode: unsupported,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: async () => {},
  };
}
