// The user_identities table: (provider, upstream subject) → user. The pair is the only key ever used
// to find a user again after an upstream sign-in (emails change upstream, subjects don't); the
// email kept here is what the upstream last said, for display only.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export interface IdentityRow {
  id: string;
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: Date;
  last_sign_in_at: Date | null;
}

export interface NewIdentity {
  id?: string;
  provider: string;
  subject: string;
  user_id: string;
  email?: string | null;
  created_at?: Date;
  last_sign_in_at?: Date | null;
}

/**
 * Rows per INSERT in insertMany: 7 columns × 500 = 3,500 bind parameters, far below Postgres's
 * 65,535, and few enough round trips for an import of a million identities.
 */
export const IDENTITY_BATCH = 500;

const rowOf = (r: NewIdentity) => ({
  id: r.id ?? randomUUID(),
  provider: r.provider,
  subject: r.subject,
  user_id: r.user_id,
  email: r.email ?? null,
  ...(r.created_at ? { created_at: r.created_at } : {}),
  last_sign_in_at: r.last_sign_in_at ?? null,
});

export function createIdentityRepo(knex: Knex) {
  return {
    findByProviderSubject: (provider: string, subject: string, db: Queryable = knex): Promise<IdentityRow | undefined> =>
      db<IdentityRow>('user_identities').where({ provider, subject }).first(),
    /** `lock`: FOR UPDATE (unlinking: two unlinks at once must not each leave the other as the last way in). */
    listForUser: (userId: string, db: Queryable = knex, opts: { lock?: boolean } = {}): Promise<IdentityRow[]> => {
      const q = db<IdentityRow>('user_identities').where({ user_id: userId }).orderBy([{ column: 'created_at' }, { column: 'provider' }]);
      return opts.lock ? q.forUpdate() : q;
    },
    async insert(row: NewIdentity, db: Queryable = knex): Promise<IdentityRow> {
      const [inserted] = await db<IdentityRow>('user_identities').insert(rowOf(row)).returning('*');
      return inserted as IdentityRow;
    },
    /** Batched inserts (IDENTITY_BATCH rows a statement), in the caller's transaction when given. */
    async insertMany(rows: readonly NewIdentity[], db: Queryable = knex): Promise<number> {
      for (let i = 0; i < rows.length; i += IDENTITY_BATCH) {
        await db('user_identities').insert(rows.slice(i, i + IDENTITY_BATCH).map(rowOf));
      }
      return rows.length;
    },
    async remove(userId: string, provider: string, subject: string, db: Queryable = knex): Promise<boolean> {
      return (await db('user_identities').where({ user_id: userId, provider, subject }).delete()) > 0;
    },
    /** A sign-in through this identity: when, and the email the upstream says now. */
    async touchSignIn(id: string, email: string | null, db: Queryable = knex): Promise<void> {
      await db('user_identities').where({ id }).update({ last_sign_in_at: db.fn.now(), email });
    },
    async countForUser(userId: string, db: Queryable = knex): Promise<number> {
      const row = await db('user_identities').where({ user_id: userId }).count<{ n: string | number }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },
    async countForProvider(provider: string, db: Queryable = knex): Promise<number> {
      const row = await db('user_identities').where({ provider }).countDistinct<{ n: string | number }[]>({ n: 'user_id' }).first();
      return Number(row?.n ?? 0);
    },
    /**
     * Users who sign in only through this provider: an identity here, and no password, no passkey,
     * no identity at another provider. Removing the provider would lock them out.
     */
    async countOnlyThrough(provider: string, db: Queryable = knex): Promise<number> {
      const row = await db('users as u')
        .whereExists((q) => q.select(db.raw('1')).from('user_identities as i').whereRaw('i.user_id = u.id').andWhere('i.provider', provider))
        .whereNull('u.password_hash')
        .whereNotExists((q) => q.select(db.raw('1')).from('webauthn_credentials as w').whereRaw('w.user_id = u.id'))
        .whereNotExists((q) => q.select(db.raw('1')).from('user_identities as o').whereRaw('o.user_id = u.id').andWhere('o.provider', '<>', provider))
        .count<{ n: string | number }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },
  };
}
export type IdentityRepo = ReturnType<typeof createIdentityRepo>;
