// The one question first-run setup asks the users table: is there an administrator yet?
// (Accounts are created through src/accounts/account.service.ts; this only reads.)
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export function createSetupRepo(knex: Knex) {
  return {
    /**
     * The email of the oldest account with the admin role, or undefined on a fresh install. A
     * disabled admin counts: disabling every admin must not reopen setup to whoever reads the boot log.
     */
    async firstAdminEmail(db: Queryable = knex): Promise<string | undefined> {
      const row = await db('users').whereRaw('? = any(roles)', ['admin'])
        .orderBy('created_at', 'asc').first('email') as { email: string } | undefined;
      return row?.email;
    },
  };
}
export type SetupRepo = ReturnType<typeof createSetupRepo>;
