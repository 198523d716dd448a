// Workspaces, as the provider asks for them (src/oidc/ports.ts): the workspace prompt, and the
// workspace claims of ID tokens, userinfo and access tokens.
import type { AccountWorkspace, WorkspacesPort } from '../oidc/ports.ts';
import { hasScope } from '../oidc/scopes.ts';
import { flatWorkspaceClaims, workspaceClaims, type WorkspaceClaimsSource } from './workspace.claims.ts';
import { parseWorkspaceRef } from './workspace.schema.ts';
import type { WorkspaceService } from './workspace.service.ts';

/** Lazily, once per account lookup: most lookups (the authorization endpoint) never need it. */
function accountWorkspace(workspaces: WorkspaceService, userId: string): AccountWorkspace {
  let settled: Promise<WorkspaceClaimsSource> | undefined;
  let listed: Promise<WorkspaceClaimsSource> | undefined;
  const get = (settle: boolean) => settle
    ? (settled ??= workspaces.claimsSource(userId, { settle: true }))
    : (listed ??= settled ?? workspaces.claimsSource(userId, { settle: false }));
  return {
    async claims(scope) {
      const flat = hasScope(scope, 'workspace');
      if (!flat && !hasScope(scope, 'workspaces')) return {};
      return workspaceClaims(await get(flat), scope);
    },
    tokenClaims: async () => ({ ...flatWorkspaceClaims((await get(true)).active) }),
  };
}

export function workspacesForOidc(workspaces: WorkspaceService): WorkspacesPort {
  return {
    isWorkspaceRef: (value) => !!parseWorkspaceRef(value),
    async chooseActive(accountId, ref, origin) { await workspaces.chooseActive(accountId, ref, origin); },
    needsChoice: async (accountId) => !!(await workspaces.needsChoice(accountId)),
    forAccount: (accountId) => accountWorkspace(workspaces, accountId),
  };
}
