// The clients table: the one place that reads or writes registered OAuth clients (the CLI, the
// clients file, the admin API and the provider's Client adapter all come through the service here).
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';
import { notifyChannel } from '../storage/pg-listen.ts';

export interface ClientRow {
  client_id: string;
  name: string;
  client_secret_encrypted: string | null;
  metadata: Record<string, unknown>;
  source: string;
  created_at: Date;
  updated_at: Date;
}

/** The channel on which a changed client's id travels to every node (src/clients/client-changes.ts). */
export const CLIENT_CHANGED_CHANNEL = 'gatehouse_client_changed';

export function createClientRepo(knex: Knex) {
  return {
    find: (clientId: string, db: Queryable = knex) => db<ClientRow>('clients').where({ client_id: clientId }).first(),
    list: () => knex<ClientRow>('clients').orderBy('created_at'),
    async insert(row: Omit<ClientRow, 'created_at' | 'updated_at'>, db: Queryable = knex): Promise<void> {
      await db('clients').insert(row);
    },
    async upsert(row: Omit<ClientRow, 'created_at' | 'updated_at'>, db: Queryable = knex): Promise<void> {
      await db('clients').insert(row).onConflict('client_id')
        .merge({ ...row, updated_at: db.fn.now() as unknown as Date });
    },
    /** A new registration (name and metadata); the secret stays. */
    async updateRegistration(clientId: string, patch: Pick<ClientRow, 'name' | 'metadata'>, db: Queryable = knex): Promise<void> {
      await db('clients').where({ client_id: clientId }).update({ ...patch, updated_at: db.fn.now() });
    },
    async setSecret(clientId: string, sealedSecret: string, db: Queryable = knex): Promise<void> {
      await db('clients').where({ client_id: clientId }).update({ client_secret_encrypted: sealedSecret, updated_at: db.fn.now() });
    },
    async delete(clientId: string, db: Queryable = knex): Promise<boolean> {
      return (await db('clients').where({ client_id: clientId }).delete()) > 0;
    },
    /** Tells every node listening on Postgres that this client changed. */
    notifyChanged: (clientId: string) => notifyChannel(knex, CLIENT_CHANGED_CHANNEL, clientId),
  };
}
export type ClientRepo = ReturnType<typeof createClientRepo>;
