// An account's live sessions, as the sessions page and the admin API list them: the recorded rows
// (device, IP, first and last seen) of the sessions the provider still holds. A row whose session
// expired in the short-lived store without a "destroyed" event is not shown.
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { AccountSessionRepo, AccountSessionRow } from './account-session.repo.ts';

export interface LiveSessionDeps { sessions: Pick<AccountSessionRepo, 'open'>; adapters: Pick<AdapterFactory, 'listAccount'> }

export async function liveSessions(deps: LiveSessionDeps, userId: string): Promise<AccountSessionRow[]> {
  const rows = await deps.sessions.open(userId);
  const live = new Set((await deps.adapters.listAccount(userId, 'Session')).map((s) => s.payload.uid as string));
  return rows.filter((r) => live.has(r.uid));
}
