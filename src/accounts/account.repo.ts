import type { Knex } from 'knex';

export interface UserRow {
  id: string;
  email: string;
  email_normalized: string;
  email_verified: boolean;
  password_hash: string | null;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  picture: string | null;
  locale: string | null;
  roles: string[];
  disabled_at: Date | null;
  mfa_required: boolean;
  password_changed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

export function createAccountRepo(knex: Knex) {
  return {
    async findById(id: string, trx: Knex = knex): Promise<UserRow | undefined> {
      if (!isUuid(id)) return undefined; // never hand Postgres a malformed uuid (a 500)
      return trx<UserRow>('users').where({ id }).first();
    },
    findByEmail: (emailNormalized: string, trx: Knex = knex) => trx<UserRow>('users').where({ email_normalized: emailNormalized }).first(),
    async insert(row: Partial<UserRow> & Pick<UserRow, 'id' | 'email' | 'email_normalized'>, trx: Knex = knex): Promise<UserRow> {
      const [created] = await trx<UserRow>('users').insert(row).returning('*');
      return created as UserRow;
    },
    async update(id: string, patch: Partial<UserRow>, trx: Knex = knex): Promise<UserRow | undefined> {
      const [row] = await trx<UserRow>('users').where({ id }).update({ ...patch, updated_at: trx.fn.now() as unknown as Date }).returning('*');
      return row as UserRow | undefined;
    },
    async list(opts: { limit: number; offset: number }): Promise<UserRow[]> {
      return knex<UserRow>('users').orderBy('created_at').limit(opts.limit).offset(opts.offset);
    },
  };
}
export type AccountRepo = ReturnType<typeof createAccountRepo>;
