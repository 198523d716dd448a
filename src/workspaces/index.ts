// The workspaces domain, wired: the membership cache behind workspace claims, the workspace and
// invitation services, over the repository and transactions the composition root hands in.
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountRepo } from '../accounts/account.repo.ts';
import type { Audit } from '../audit/audit.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { WorkspaceRepo } from './workspace.repo.ts';
import { createMembershipCache, noMembershipCache } from './membership-cache.ts';
import { createWorkspaceService } from './workspace.service.ts';
import { createInvitationService } from './invitation.service.ts';

export interface WorkspacesDeps {
  transactions: Transactions;
  repo: WorkspaceRepo;
  accounts: AccountService;
  accountRepo: AccountRepo;
  audit: Audit;
}

/** `cacheMs`: how long a node may serve memberships from memory; 0 reads the store every time. */
export function createWorkspaces(deps: WorkspacesDeps, opts: { cacheMs: number } = { cacheMs: 0 }) {
  const { transactions, repo, accounts, accountRepo, audit } = deps;
  const load = (userId: string) => repo.membershipsOf(userId);
  const cache = opts.cacheMs > 0 ? createMembershipCache(load, opts.cacheMs) : noMembershipCache(load);
  const workspaces = createWorkspaceService({ transactions, repo, accounts: accountRepo, audit, cache });
  const invitations = createInvitationService({ transactions, repo, accounts, accountRepo, workspaces, audit });
  return { workspaces, invitations, membershipCache: cache };
}
