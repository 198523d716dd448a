// Ends everything an account holds — its sessions and grants, so every access and refresh token
// issued under them — and closes its rows on the sessions page. Password reset and change,
// "sign out everywhere", disabling and deleting all come here.
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { AccountSessionRepo } from './account-session.repo.ts';

export interface EndEverywhereDeps { adapters: AdapterFactory; sessions: Pick<AccountSessionRepo, 'endAll'> }

export async function endAccountEverywhere(deps: EndEverywhereDeps, userId: string): Promise<void> {
  await deps.adapters.revokeAccount(userId);
  await deps.sessions.endAll(userId);
}
