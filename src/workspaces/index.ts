// The workspaces domain, wired: one repository, the workspace and invitation services.
import type { Knex } from 'knex';
import type { AccountService } from '../accounts/account.service.ts';
import { createAccountRepo } from '../accounts/account.repo.ts';
import { createAudit } from '../audit/audit.ts';
import { createWorkspaceRepo } from './workspace.repo.ts';
import { createWorkspaceService } from './workspace.service.ts';
import { createInvitationService } from './invitation.service.ts';

export function createWorkspaces(knex: Knex, accounts: AccountService) {
  const repo = createWorkspaceRepo(knex);
  const accountRepo = createAccountRepo(knex);
  const audit = createAudit(knex);
  const workspaces = createWorkspaceService({ knex, repo, accounts: accountRepo, audit });
  const invitations = createInvitationService({ knex, repo, accounts, accountRepo, workspaces, audit });
  return { workspaces, invitations };
}
