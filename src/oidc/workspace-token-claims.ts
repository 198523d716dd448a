// Workspace claims at the moment tokens are minted: the ID token and userinfo through findAccount's
// claims(), access tokens (JWT, and opaque ones for introspection) through extraTokenClaims. Read
// from the stored active workspace each time — through the node's membership cache, which every
// change drops on every node — so a refresh after a switch names the new workspace and a refresh
// after a removal never names the old one. One token response resolves it once (the account
// lookup's AccountWorkspace, src/workspaces/workspace.oidc-port.ts), so its ID token and access
// token agree.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountWorkspace, WorkspacesPort } from './ports.ts';
import { hasScope } from './scopes.ts';

/** extraTokenClaims: the flat claims in access tokens whose scope includes `workspace`. */
export function workspaceTokenClaims(workspaces: WorkspacesPort) {
  return async (ctx: KoaContextWithOIDC | undefined, token: { accountId?: string; scope?: string }): Promise<Record<string, unknown> | undefined> => {
    if (!token.accountId || !hasScope(token.scope, 'workspace')) return undefined;
    const account = ctx?.oidc?.account as { accountId?: string; workspace?: AccountWorkspace } | undefined;
    const workspace = account?.accountId === token.accountId && account.workspace ? account.workspace : workspaces.forAccount(token.accountId);
    const claims = await workspace.tokenClaims();
    return Object.keys(claims).length ? { ...claims } : undefined;
  };
}
