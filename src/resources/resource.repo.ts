// The resources table: the one place that reads or writes stored resources (APIs). A trigger
// (migrations/20261205010000_resources.ts) announces every change on RESOURCE_CHANGED_CHANNEL.
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export interface ResourceRow {
  id: string;
  audience: string;
  name: string;
  claims: string[];
  scopes: string[];
  access_token_ttl: number | null;
  enabled: boolean;
  source: string;
  created_at: Date;
  updated_at: Date;
}

/** The channel on which every node hears that the resources table changed (src/resources/resource-registry.ts). */
export const RESOURCE_CHANGED_CHANNEL = 'gatehouse_resource_changed';

type Writable = Pick<ResourceRow, 'name' | 'claims' | 'scopes' | 'access_token_ttl' | 'enabled'>;

// jsonb columns: knex passes a JS array to pg as a Postgres array literal, so arrays go in as JSON text
const json = (row: Partial<Writable>) => ({
  ...row,
  ...(row.claims ? { claims: JSON.stringify(row.claims) } : {}),
  ...(row.scopes ? { scopes: JSON.stringify(row.scopes) } : {}),
});

export function createResourceRepo(knex: Knex) {
  return {
    list: (db: Queryable = knex) => db<ResourceRow>('resources').orderBy('audience'),
    find: (id: string, db: Queryable = knex) => db<ResourceRow>('resources').where({ id }).first(),
    findByAudience: (audience: string, db: Queryable = knex) => db<ResourceRow>('resources').where({ audience }).first(),
    async insert(row: Writable & Pick<ResourceRow, 'id' | 'audience' | 'source'>, db: Queryable = knex): Promise<void> {
      await db('resources').insert(json(row));
    },
    async update(id: string, patch: Partial<Writable>, db: Queryable = knex): Promise<void> {
      await db('resources').where({ id }).update({ ...json(patch), updated_at: db.fn.now() });
    },
    async delete(id: string, db: Queryable = knex): Promise<boolean> {
      return (await db('resources').where({ id }).delete()) > 0;
    },
  };
}
export type ResourceRepo = ReturnType<typeof createResourceRepo>;
