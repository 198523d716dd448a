// The one question first-run setup asks the users table: is there an administrator yet?
// (Accounts are created through src/accounts/account.service.ts; this only reads.)
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export function createSetupRepo(knex: Knex) {
  return {
    /** The email of the oldest enabled account with the admin role, or undefined on a fresh install. */
    async firstAdminEmail(db: Queryable = knex): Promise<string | undefined> {
      const row = await db('users').whereRaw('? = any(roles)', ['admin']).whereNull('disabled_at')
        .orderBy('created_at', 'asc').first('email') as { email: string } | undefined;
      return row?.email;
    },
  };
}
export type SetupRepo = ReturnType<typeof createSetupRepo>;
