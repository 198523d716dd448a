// The workspaces domain, wired: one repository, the membership cache behind workspace claims, the
// workspace and invitation services.
import type { Knex } from 'knex';
import type { AccountService } from '../accounts/account.service.ts';
import { createAccountRepo } from '../accounts/account.repo.ts';
import { createAudit } from '../audit/audit.ts';
import { createWorkspaceRepo } from './workspace.repo.ts';
import { createMembershipCache, noMembershipCache } from './membership-cache.ts';
import { createWorkspaceService } from './workspace.service.ts';
import { createInvitationService } from './invitation.service.ts';

/** `cacheMs`: how long a node may serve memberships from memory; 0 reads the store every time. */
export function createWorkspaces(knex: Knex, accounts: AccountService, opts: { cacheMs: number } = { cacheMs: 0 }) {
  const repo = createWorkspaceRepo(knex);
  const load = (userId: string) => repo.membershipsOf(userId);
  const cache = opts.cacheMs > 0 ? createMembershipCache(load, opts.cacheMs) : noMembershipCache(load);
  const accountRepo = createAccountRepo(knex);
  const audit = createAudit(knex);
  const workspaces = createWorkspaceService({ knex, repo, accounts: accountRepo, audit, cache });
  const invitations = createInvitationService({ knex, repo, accounts, accountRepo, workspaces, audit });
  return { workspaces, invitations, membershipCache: cache };
}
