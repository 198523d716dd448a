// The upstream_providers table: the one place that reads or writes registered upstream identity
// providers (the CLI, the providers file, the admin API and console, and the federation flow all
// come through src/upstream/provider.service.ts).
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export interface ProviderRow {
  id: string;
  name: string;
  display_name: string;
  kind: string;
  issuer: string | null;
  client_id: string;
  client_secret_encrypted: string | null;
  private_key_encrypted: string | null;
  settings: Record<string, unknown>;
  enabled: boolean;
  source: string;
  created_at: Date;
  updated_at: Date;
}

export type NewProviderRow = Omit<ProviderRow, 'created_at' | 'updated_at'>;
/** What an update may change: never the name (it is in the callback URL registered upstream) or the id. */
export type ProviderPatch = Partial<Omit<ProviderRow, 'id' | 'name' | 'created_at' | 'updated_at'>>;

export function createProviderRepo(knex: Knex) {
  return {
    find: (name: string, db: Queryable = knex): Promise<ProviderRow | undefined> =>
      db<ProviderRow>('upstream_providers').where({ name }).first(),
    /**
     * The row, locked until the transaction ends: a removal counts the identities it takes with it,
     * and an identity being linked meanwhile (its foreign key takes a share lock) waits for it.
     */
    findForUpdate: (name: string, tx: Queryable): Promise<ProviderRow | undefined> =>
      tx<ProviderRow>('upstream_providers').where({ name }).forUpdate().first(),
    list: (db: Queryable = knex): Promise<ProviderRow[]> =>
      db<ProviderRow>('upstream_providers').orderBy([{ column: 'created_at' }, { column: 'name' }]),
    async insert(row: NewProviderRow, db: Queryable = knex): Promise<void> {
      await db('upstream_providers').insert(row);
    },
    async update(name: string, patch: ProviderPatch, db: Queryable = knex): Promise<boolean> {
      return (await db('upstream_providers').where({ name }).update({ ...patch, updated_at: db.fn.now() })) > 0;
    },
    /** Deletes the provider; its identities go with it (FK cascade), its memberships stay as if made by hand. */
    async remove(name: string, db: Queryable = knex): Promise<boolean> {
      return (await db('upstream_providers').where({ name }).delete()) > 0;
    },
  };
}
export type ProviderRepo = ReturnType<typeof createProviderRepo>;
