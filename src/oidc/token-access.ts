// Who may learn about or revoke a token (features.introspection / features.revocation allowedPolicy).
// The library's defaults let any confidential client introspect any token and tell a client that a
// token it presented belongs to someone else; both leak. Here:
//   - introspection answers active:true to the client the token was issued to, or to a resource
//     server the token is meant for: a confidential client registered with `resource_server_for`
//     listing one of the token's audiences (docs/admin.md, "Resource servers"); everyone else gets
//     {active:false}, exactly as for an unknown token;
//   - revocation revokes only the caller's own tokens; for any other token it still answers 200
//     (RFC 7009 §2.2) and revokes nothing, so the answer says nothing about the token.
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The client metadata property naming the audiences (resource indicators) a client serves. */
export const RESOURCE_SERVER_PROPERTY = 'resource_server_for';

interface Caller { clientId: string; clientAuthMethod?: string; metadata(): Record<string, unknown> }
interface TokenLike { clientId?: string; aud?: string | string[] }

function audiences(token: TokenLike): string[] {
  if (!token.aud) return [];
  return Array.isArray(token.aud) ? token.aud : [token.aud];
}

/** The audiences the calling client may introspect tokens for (empty for a public client). */
export function servedAudiences(client: Caller): string[] {
  if (client.clientAuthMethod === 'none') return [];
  const served = client.metadata()[RESOURCE_SERVER_PROPERTY];
  return Array.isArray(served) ? served.filter((s): s is string => typeof s === 'string') : [];
}

export function mayIntrospect(client: Caller, token: TokenLike): boolean {
  // RFC 7662 §2.1: the caller authenticates; a public client proves nothing about who it is
  if (client.clientAuthMethod === 'none') return false;
  if (token.clientId === client.clientId) return true;
  const served = servedAudiences(client);
  return audiences(token).some((a) => served.includes(a));
}

export function mayRevoke(client: Caller, token: TokenLike): boolean {
  return token.clientId === client.clientId;
}

// oidc-provider's token types are narrower than what the tokens carry (clientId, aud)
export const introspectionAllowed = async (_ctx: KoaContextWithOIDC, client: Caller, token: unknown) => mayIntrospect(client, token as TokenLike);
export const revocationAllowed = async (_ctx: KoaContextWithOIDC, client: Caller, token: unknown) => mayRevoke(client, token as TokenLike);
