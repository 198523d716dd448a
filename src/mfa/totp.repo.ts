// mfa_totp: one authenticator-app secret per account (sealed), pending until a first code confirms it.
import type { Knex } from 'knex';
import type { Queryable, Tx } from '../storage/transactions.ts';

export interface TotpRow {
  user_id: string;
  secret_encrypted: string;
  confirmed_at: Date | null;
  last_used_step: number | string | null;
}

export function createTotpRepo(knex: Knex) {
  return {
    find: (userId: string, db: Queryable = knex): Promise<TotpRow | undefined> => db<TotpRow>('mfa_totp').where({ user_id: userId }).first(),
    findPending: (userId: string, db: Queryable = knex): Promise<TotpRow | undefined> =>
      db<TotpRow>('mfa_totp').where({ user_id: userId }).whereNull('confirmed_at').first(),
    /** The row, locked until `tx` ends (a code is checked and its step recorded atomically). */
    findForUpdate: (userId: string, tx: Tx): Promise<TotpRow | undefined> => tx<TotpRow>('mfa_totp').where({ user_id: userId }).forUpdate().first(),
    /** A new pending secret, replacing any earlier one. */
    async putPending(userId: string, secretEncrypted: string, db: Queryable = knex): Promise<void> {
      await db('mfa_totp').insert({ user_id: userId, secret_encrypted: secretEncrypted, confirmed_at: null, last_used_step: null })
        .onConflict('user_id').merge();
    },
    /** Records the time step just used; `confirm` activates a pending secret. */
    async markUsed(userId: string, step: number, opts: { confirm: boolean }, db: Queryable = knex): Promise<void> {
      await db('mfa_totp').where({ user_id: userId }).update({ last_used_step: step, ...(opts.confirm ? { confirmed_at: db.fn.now() } : {}) });
    },
    async remove(userId: string, db: Queryable = knex): Promise<void> {
      await db('mfa_totp').where({ user_id: userId }).delete();
    },
  };
}
export type TotpRepo = ReturnType<typeof createTotpRepo>;
