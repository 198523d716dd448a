// Ends everything an account holds — its sessions and grants, so every access and refresh token
// issued under them — and closes its rows on the sessions page. Password reset and change,
// "sign out everywhere", disabling and deleting all come here.
import type { Knex } from 'knex';
import type { AdapterFactory } from '../storage/short-lived-store.ts';

export async function endAccountEverywhere(knex: Knex, adapters: AdapterFactory, userId: string): Promise<void> {
  await adapters.revokeAccount(userId);
  await knex('account_sessions').where({ user_id: userId }).whereNull('ended_at').update({ ended_at: knex.fn.now() });
}
