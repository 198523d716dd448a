// The users table: the one place that reads or writes it (account lifecycle, profile, admin
// changes and the active workspace all come through here).
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

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
  /** imported with an unsalted fast hash: a new password is due right after the next sign-in */
  password_change_required: boolean;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

/** Serialises "make sure the first admin exists" across nodes booting at once (a transaction-scoped advisory lock). */
const ENSURE_ADMIN_LOCK = 0x6164_6d6e; // 'admn'

export function createAccountRepo(knex: Knex) {
  async function update(id: string, patch: Partial<UserRow>, db: Queryable = knex): Promise<UserRow | undefined> {
    const [row] = await db<UserRow>('users').where({ id }).update({ ...patch, updated_at: db.fn.now() as unknown as Date }).returning('*');
    return row as UserRow | undefined;
  }

  return {
    async findById(id: string, db: Queryable = knex): Promise<UserRow | undefined> {
      if (!isUuid(id)) return undefined; // never hand Postgres a malformed uuid (a 500)
      return db<UserRow>('users').where({ id }).first();
    },
    findByEmail: (emailNormalized: string, db: Queryable = knex) => db<UserRow>('users').where({ email_normalized: emailNormalized }).first(),
    async insert(row: Partial<UserRow> & Pick<UserRow, 'id' | 'email' | 'email_normalized'>, db: Queryable = knex): Promise<UserRow> {
      const [created] = await db<UserRow>('users').insert(row).returning('*');
      return created as UserRow;
    },
    /** Changes the given columns (updated_at too); undefined when no such user. */
    update,
    /** A new password hash, stamped as changed now (a new password was due: no longer). */
    setPassword: (id: string, passwordHash: string, db: Queryable = knex) =>
      update(id, { password_hash: passwordHash, password_changed_at: db.fn.now() as unknown as Date, password_change_required: false }, db),
    async delete(id: string, db: Queryable = knex): Promise<boolean> {
      return (await db('users').where({ id }).delete()) > 0;
    },
    async list(opts: { limit: number; offset: number }): Promise<UserRow[]> {
      return knex<UserRow>('users').orderBy('created_at').limit(opts.limit).offset(opts.offset);
    },
    /** Users whose email or name contains `query`, oldest first, a page at a time. */
    async search(q: { query?: string; limit: number; offset: number }): Promise<{ total: number; users: UserRow[] }> {
      const base = knex<UserRow>('users');
      if (q.query) base.where((w) => w.whereILike('email', `%${q.query}%`).orWhereILike('name', `%${q.query}%`));
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), users: await base.orderBy('created_at').limit(q.limit).offset(q.offset) };
    },
    /** Holds the first-admin lock until `tx` ends. */
    async lockEnsureAdmin(tx: Knex.Transaction): Promise<void> {
      await tx.raw('select pg_advisory_xact_lock(?)', [ENSURE_ADMIN_LOCK]);
    },
    /** The workspace the user's tokens name (workspaces/ owns the choice; the column is the user's). */
    async setActiveWorkspace(userId: string, workspaceId: string | null, db: Queryable = knex): Promise<void> {
      await db('users').where({ id: userId }).update({ active_workspace_id: workspaceId });
    },
    /** Sets the active workspace only if it is still `expected` (a concurrent switch wins). */
    async replaceActiveWorkspace(userId: string, expected: string | null, next: string | null, db: Queryable = knex): Promise<void> {
      await db('users').where({ id: userId }).whereRaw('active_workspace_id is not distinct from ?', [expected])
        .update({ active_workspace_id: next });
    },
  };
}
export type AccountRepo = ReturnType<typeof createAccountRepo>;
