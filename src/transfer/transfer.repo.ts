// The bulk SQL of import and export (issue 15): many users, their workspaces, memberships and TOTP
// secrets in a few multi-row statements per chunk, where the domains' repositories work one row at
// a time. Reads and writes the same tables as accounts/, workspaces/ and mfa/ with their rules
// (the triggers that tell caches of changes still fire); identities go through upstream/'s repo.
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import type { Role } from '../workspaces/roles.ts';

/** Rows per INSERT: a few hundred kilobytes of JSON a statement. */
const INSERT_BATCH = 1000;

/**
 * The columns a bulk insert writes. Rows travel as ONE JSON parameter expanded by
 * jsonb_populate_recordset, not as 16,000 bind parameters: the embedded store (PGlite) spends about
 * half the time per row on binding them (measured: 1,000 users in 0.25 s instead of 0.45 s), and
 * Postgres too parses one short statement instead of a huge one.
 */
const USER_COLUMNS = ['id', 'email', 'email_normalized', 'email_verified', 'password_hash', 'name', 'given_name', 'family_name',
  'picture', 'locale', 'roles', 'disabled_at', 'password_change_required'] as const;

export type NewUserRow = Pick<UserRow, 'id' | 'email' | 'email_normalized' | 'email_verified' | 'password_hash' | 'name' | 'given_name'
  | 'family_name' | 'picture' | 'locale' | 'roles' | 'disabled_at' | 'password_change_required'> & { created_at?: Date };

export interface ExistingWorkspace { id: string; slug: string; name: string }
export interface UserMembershipRow { user_id: string; workspace_id: string; slug: string; name: string; role: Role }
export interface UserIdentityRow { user_id: string; provider: string; subject: string; email: string | null }
export interface UserTotpRow { user_id: string; secret_encrypted: string; confirmed_at: Date | null }

async function batched<T>(rows: readonly T[], insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) await insert(rows.slice(i, i + INSERT_BATCH));
}

export function createTransferRepo(knex: Knex) {
  return {
    /** Users with one of these ids or normalised emails. */
    async usersMatching(ids: readonly string[], emails: readonly string[], db: Queryable = knex): Promise<UserRow[]> {
      if (ids.length === 0 && emails.length === 0) return [];
      return db<UserRow>('users').whereIn('id', ids as string[]).orWhereIn('email_normalized', emails as string[]);
    },
    /** New users; `created_at` when given (then also their `updated_at`), else now. */
    async insertUsers(rows: readonly NewUserRow[], db: Queryable = knex): Promise<void> {
      const columns = USER_COLUMNS.join(', ');
      await batched(rows, (batch) => db.raw(
        `insert into users (${columns}, created_at, updated_at)
         select ${columns}, coalesce(created_at, now()), coalesce(created_at, now()) from jsonb_populate_recordset(null::users, ?::jsonb)`,
        [JSON.stringify(batch)],
      ));
    },
    async updateUser(id: string, patch: Partial<NewUserRow>, db: Queryable = knex): Promise<void> {
      await db('users').where({ id }).update({ ...patch, updated_at: db.fn.now() });
    },

    workspacesBySlugOrId: (slugs: readonly string[], ids: readonly string[], db: Queryable = knex): Promise<ExistingWorkspace[]> =>
      db<ExistingWorkspace>('workspaces').select('id', 'slug', 'name').whereIn('slug', slugs as string[]).orWhereIn('id', ids as string[]),
    async insertWorkspaces(rows: ReadonlyArray<{ id: string; slug: string; name: string; created_by: string | null }>, db: Queryable = knex): Promise<void> {
      await batched(rows, (batch) => db.raw(
        `insert into workspaces (id, slug, name, created_by)
         select id, slug, name, created_by from jsonb_to_recordset(?::jsonb) as x(id uuid, slug text, name text, created_by uuid)`,
        [JSON.stringify(batch)],
      ));
    },
    /** Adds memberships, or sets the role of existing ones (an update's workspaces). */
    async upsertMemberships(rows: ReadonlyArray<{ workspace_id: string; user_id: string; role: Role }>, db: Queryable = knex): Promise<void> {
      await batched(rows, (batch) => db.raw(
        `insert into memberships (workspace_id, user_id, role)
         select workspace_id, user_id, role from jsonb_to_recordset(?::jsonb) as x(workspace_id uuid, user_id uuid, role text)
         on conflict (workspace_id, user_id) do update set role = excluded.role`,
        [JSON.stringify(batch)],
      ));
    },
    /** Imported TOTP secrets are active at once: the user enrolled them in the system they come from. */
    async upsertTotp(rows: ReadonlyArray<{ user_id: string; secret_encrypted: string }>, db: Queryable = knex): Promise<void> {
      await batched(rows, (batch) => db('mfa_totp').insert(batch.map((r) => ({ ...r, confirmed_at: db.fn.now(), last_used_step: null })))
        .onConflict('user_id').merge(['secret_encrypted', 'confirmed_at', 'last_used_step']));
    },
    /** Which of these (provider, subject) pairs are linked already, and to whom. */
    async identitiesMatching(pairs: ReadonlyArray<{ provider: string; subject: string }>, db: Queryable = knex): Promise<UserIdentityRow[]> {
      if (pairs.length === 0) return [];
      return db<UserIdentityRow>('user_identities').select('user_id', 'provider', 'subject', 'email')
        .whereIn(['provider', 'subject'], pairs.map((p) => [p.provider, p.subject]));
    },
    providerNames: async (db: Queryable = knex): Promise<string[]> => (await db('upstream_providers').select('name')).map((r: { name: string }) => r.name),

    // what an update compares with, and what export writes: for many users at once
    membershipsOf: (userIds: readonly string[], db: Queryable = knex): Promise<UserMembershipRow[]> =>
      db('memberships as m').join('workspaces as w', 'w.id', 'm.workspace_id').whereIn('m.user_id', userIds as string[])
        .select('m.user_id', 'm.workspace_id', 'w.slug', 'w.name', 'm.role').orderBy([{ column: 'm.user_id' }, { column: 'm.created_at' }, { column: 'w.slug' }]),
    identitiesOf: (userIds: readonly string[], db: Queryable = knex): Promise<UserIdentityRow[]> =>
      db<UserIdentityRow>('user_identities').whereIn('user_id', userIds as string[]).select('user_id', 'provider', 'subject', 'email')
        .orderBy([{ column: 'created_at' }, { column: 'provider' }, { column: 'subject' }]),
    totpOf: (userIds: readonly string[], db: Queryable = knex): Promise<UserTotpRow[]> =>
      db<UserTotpRow>('mfa_totp').whereIn('user_id', userIds as string[]).select('user_id', 'secret_encrypted', 'confirmed_at'),

    /**
     * One page of users after the last id of the previous page (keyset on the primary key: a
     * timestamp would not do, as JavaScript's Date drops Postgres's microseconds).
     */
    async usersPage(afterId: string | undefined, limit: number, db: Queryable = knex): Promise<UserRow[]> {
      const q = db<UserRow>('users').orderBy('id').limit(limit);
      if (afterId) q.where('id', '>', afterId);
      return q;
    },
  };
}
export type TransferRepo = ReturnType<typeof createTransferRepo>;
