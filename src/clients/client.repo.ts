import type { Knex } from 'knex';

export interface ClientRow {
  client_id: string;
  name: string;
  client_secret_encrypted: string | null;
  metadata: Record<string, unknown>;
  source: string;
  created_at: Date;
  updated_at: Date;
}

export function createClientRepo(knex: Knex) {
  return {
    find: (clientId: string) => knex<ClientRow>('clients').where({ client_id: clientId }).first(),
    list: () => knex<ClientRow>('clients').orderBy('created_at'),
    async insert(row: Omit<ClientRow, 'created_at' | 'updated_at'>, trx: Knex = knex): Promise<void> {
      await trx('clients').insert(row);
    },
    async upsert(row: Omit<ClientRow, 'created_at' | 'updated_at'>, trx: Knex = knex): Promise<void> {
      await trx('clients').insert(row).onConflict('client_id')
        .merge({ ...row, updated_at: trx.fn.now() as unknown as Date });
    },
    async delete(clientId: string): Promise<boolean> {
      return (await knex('clients').where({ client_id: clientId }).delete()) > 0;
    },
  };
}
export type ClientRepo = ReturnType<typeof createClientRepo>;
