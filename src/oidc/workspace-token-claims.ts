// Workspace claims at the moment tokens are minted: the ID token and userinfo through findAccount's
// claims(), access tokens (JWT, and opaque ones for introspection) through extraTokenClaims. Read
// from the stored active workspace each time — through the node's membership cache, which every
// change drops on every node — so a refresh after a switch names the new workspace and a refresh
// after a removal never names the old one. One token response resolves it once, so its ID token and
// access token agree.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import { flatWorkspaceClaims, hasScope, workspaceClaims, type WorkspaceClaimsSource } from '../workspaces/workspace.claims.ts';

export interface AccountWorkspace {
  /** the claims for a granted scope string (empty without `workspace`/`workspaces`) */
  claims(scope: string): Promise<Record<string, unknown>>;
  /** the memberships and the active workspace, settled (a stale one replaced and stored) */
  settled(): Promise<WorkspaceClaimsSource>;
}

/** Lazily, once per account lookup: most lookups (the authorization endpoint) never need it. */
export function accountWorkspace(workspaces: WorkspaceService, userId: string): AccountWorkspace {
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
    settled: () => get(true),
  };
}

/** extraTokenClaims: the flat claims in access tokens whose scope includes `workspace`. */
export function workspaceTokenClaims(workspaces: WorkspaceService) {
  return async (ctx: KoaContextWithOIDC | undefined, token: { accountId?: string; scope?: string }): Promise<Record<string, unknown> | undefined> => {
    if (!token.accountId || !hasScope(token.scope, 'workspace')) return undefined;
    const account = ctx?.oidc?.account as { accountId?: string; workspace?: AccountWorkspace } | undefined;
    const source = account?.accountId === token.accountId && account.workspace
      ? await account.workspace.settled()
      : await workspaces.claimsSource(token.accountId, { settle: true });
    const claims = flatWorkspaceClaims(source.active);
    return Object.keys(claims).length ? { ...claims } : undefined;
  };
}
