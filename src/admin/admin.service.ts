// What an administrator does to accounts, shared by the admin API and the console: each change
// and its audit event in one transaction; sessions and grants ended where the change demands it.
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AuditFilter, AuditRepo, AuditRow } from '../audit/audit.repo.ts';
import type { AccountRepo, UserRow } from '../accounts/account.repo.ts';
import type { AccountSessionRepo } from '../accounts/account-session.repo.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import type { Mfa } from '../mfa/index.ts';
import { badRequest, notFound } from '../errors/app-error.ts';
import { endAccountEverywhere } from '../accounts/end-everywhere.ts';

export type { AuditFilter };

export type AdminOrigin = Pick<AuditEvent, 'actorId' | 'clientId' | 'ip' | 'userAgent'>;

export interface AdminServiceDeps {
  transactions: Transactions;
  accounts: AccountRepo;
  auditEvents: Pick<AuditRepo, 'search'>;
  sessions: Pick<AccountSessionRepo, 'endAll'>;
  audit: Audit;
  adapters: AdapterFactory;
  mfa: Mfa;
}

export function createAdminService(deps: AdminServiceDeps) {
  const { transactions, accounts, audit, adapters } = deps;

  async function user(id: string, tx?: Queryable): Promise<UserRow> {
    const u = await accounts.findById(id, tx);
    if (!u) throw notFound(`no user ${id}`);
    return u;
  }

  async function change(id: string, type: string, patch: Partial<UserRow>, origin: AdminOrigin, data: Record<string, unknown> = {}): Promise<UserRow> {
    return transactions.run(async (tx) => {
      await user(id, tx);
      const row = await accounts.update(id, patch, tx);
      // deleted by a concurrent request between the look-up and the update
      if (!row) throw notFound(`no user ${id}`);
      await audit.record({ type, subjectId: id, ...origin, data }, tx);
      return row;
    });
  }

  const endEverything = (id: string) => endAccountEverywhere({ adapters, sessions: deps.sessions }, id);

  return {
    user,
    change,

    /** Users whose email or name contains `query`, oldest first, a page at a time. */
    searchUsers: (q: { query?: string; limit: number; offset: number }): Promise<{ total: number; users: UserRow[] }> => accounts.search(q),

    /** Audit events, newest first, filtered and a page at a time. */
    auditEvents: (f: AuditFilter & { limit: number; offset: number }): Promise<{ total: number; events: AuditRow[] }> => deps.auditEvents.search(f),

    async disable(id: string, origin: AdminOrigin): Promise<UserRow> {
      if (id === origin.actorId) throw badRequest('You cannot disable yourself.', 'self');
      const row = await change(id, 'user.disabled', { disabled_at: new Date() }, origin);
      await endEverything(row.id);
      return row;
    },
    async enable(id: string, origin: AdminOrigin): Promise<UserRow> {
      // A disable whose revocation failed half-way (Redis unavailable) left the account's grants
      // behind, refused only because the account is disabled: they end first, so that enabling
      // cannot bring them back, and the account stays disabled if they cannot end now.
      if ((await user(id)).disabled_at) await endEverything(id);
      return change(id, 'user.enabled', { disabled_at: null }, origin);
    },
    async remove(id: string, origin: AdminOrigin): Promise<void> {
      if (id === origin.actorId) throw badRequest('You cannot delete yourself.', 'self');
      await transactions.run(async (tx) => {
        const u = await user(id, tx);
        await accounts.delete(id, tx);
        await audit.record({ type: 'user.deleted', subjectId: id, ...origin, data: { email: u.email } }, tx);
      });
      await adapters.revokeAccount(id); // its account_sessions rows went with the user
    },
    async resetMfa(id: string, origin: AdminOrigin): Promise<void> {
      await transactions.run(async (tx) => {
        await user(id, tx);
        await deps.mfa.reset(id, tx);
        await audit.record({ type: 'mfa.reset', subjectId: id, ...origin }, tx);
      });
    },
    async revokeSessions(id: string, origin: AdminOrigin): Promise<void> {
      await user(id);
      await endEverything(id);
      await audit.record({ type: 'session.revoked_all', subjectId: id, ...origin });
    },
  };
}
export type AdminService = ReturnType<typeof createAdminService>;
