// The user claims a resource (an API) asks for, in its JWT access tokens (extraTokenClaims): only
// those whose scope the user granted for that resource — no `email` without `email`, name and the
// rest only with `profile`, `roles` with `roles`, `workspaces` with `workspaces` — read when the
// token is minted, so a refresh carries them again, and a changed resource or profile shows in the
// next token. The token path reads the resource from the node's memory (src/resources/
// resource-registry.ts) and the account from the lookup oidc-provider already made for this token
// response (findAccount, from the account cache): no query per token.
//
// Which scopes a resource token has: oidc-provider keeps, for a resource, only the requested scopes
// that the resource server lists (getResourceServerInfo's `scope`: src/oidc/resource-servers.ts lists
// the claims' scopes there) and that the grant holds for that resource (consent).
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountWorkspace, AccountsPort, OidcAccount, WorkspacesPort } from './ports.ts';
import type { ResourceRegistry } from '../resources/resource-registry.ts';
import { RESOURCE_CLAIMS } from '../resources/resource.schema.ts';
import { hasScope } from './scopes.ts';

type Claims = Record<string, unknown> | undefined;
interface TokenLike { accountId?: string; scope?: string; aud?: unknown }
/** What findAccount (src/oidc/provider.ts) puts on ctx.oidc.account for this token response. */
interface FoundAccount { accountId?: string; user?: OidcAccount; workspace?: AccountWorkspace }

export interface ResourceClaimDeps { resources: ResourceRegistry; accounts: AccountsPort; workspaces: WorkspacesPort }

/** The claims `token` gets for its resource, or undefined (no resource, no user, nothing granted). */
export async function resourceClaims(deps: ResourceClaimDeps, ctx: KoaContextWithOIDC | undefined, token: TokenLike): Promise<Claims> {
  // opaque tokens (userinfo, Gatehouse's own APIs) and client_credentials end here, at no cost
  if (!token.accountId || typeof token.aud !== 'string') return undefined;
  const resource = await deps.resources.find(token.aud);
  if (!resource?.claims.length) return undefined;
  const granted = resource.claims.filter((c) => hasScope(token.scope, RESOURCE_CLAIMS[c]));
  if (!granted.length) return undefined;

  const found = ctx?.oidc?.account as FoundAccount | undefined;
  const same = found?.accountId === token.accountId;
  const user = (same ? found.user : undefined) ?? await deps.accounts.findActive(token.accountId);
  if (!user) return undefined;
  const standard = user.claims();
  const out: Record<string, unknown> = {};
  for (const claim of granted) {
    if (claim === 'workspaces') {
      const workspace = same && found.workspace ? found.workspace : deps.workspaces.forAccount(token.accountId);
      const { workspaces } = await workspace.claims('workspaces');
      if (workspaces !== undefined) out.workspaces = workspaces;
    } else if (standard[claim] !== undefined && standard[claim] !== null) {
      out[claim] = standard[claim];
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** extraTokenClaims: `inner`'s claims (the workspace claims) and the resource's claims beside them. */
export function withResourceClaims(deps: ResourceClaimDeps, inner: (ctx: KoaContextWithOIDC | undefined, token: never) => Promise<Claims>) {
  return async (ctx: KoaContextWithOIDC | undefined, token: TokenLike): Promise<Claims> => {
    // the token path's common case (opaque tokens, client_credentials) pays one check, no promise more
    if (!token.accountId || typeof token.aud !== 'string') return inner(ctx, token as never);
    const [base, extra] = await Promise.all([inner(ctx, token as never), resourceClaims(deps, ctx, token)]);
    return extra ? { ...base, ...extra } : base;
  };
}
