// Impersonation through the RFC 8693 token-exchange grant, for clients registered with it:
//   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//   subject_token=<an admin's access token with the admin scope>
//   subject_token_type=urn:ietf:params:oauth:token-type:access_token
//   requested_subject=<the user's id>   reason=<why, on the record>
// The answer is the same token POST /api/admin/users/{id}/token mints (act: {sub: <admin>}), with
// issued_token_type. `requested_subject` follows the common extension for impersonation (the RFC
// leaves how the target is named to the server). The admin's policy and the audit record are the
// impersonation service's (src/admin/impersonation.ts), reached through a port.
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { asProviderError } from '../provider-errors.ts';
import type { AccountsPort, ImpersonationPort } from '../ports.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const PARAMS = ['subject_token', 'subject_token_type', 'requested_subject', 'reason', 'requested_token_type', 'audience', 'resource', 'scope', 'actor_token', 'actor_token_type'];

export function registerTokenExchange(provider: Provider, deps: { accounts: Pick<AccountsPort, 'findById'>; impersonation: ImpersonationPort }): Provider {
  const { impersonation } = deps;

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx: KoaContextWithOIDC) => {
    const p = ctx.oidc.params as Record<string, string | undefined>;
    if (p.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (p.requested_token_type && p.requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('only access tokens can be requested');
    if (p.actor_token) throw new errors.InvalidRequest('actor_token is not supported: the subject_token is the acting admin');
    if (!p.subject_token || !p.requested_subject) throw new errors.InvalidRequest('subject_token and requested_subject are required');
    const token = await provider.AccessToken.find(p.subject_token);
    if (!token || token.isExpired || !token.accountId) throw new errors.InvalidGrant('subject_token is invalid or expired');
    if (token.grantId && !(await provider.Grant.find(token.grantId))) throw new errors.InvalidGrant('subject_token was revoked');
    const found = await deps.accounts.findById(token.accountId); // uncached: an admin's role is read fresh
    const admin = found && !found.disabled ? found : undefined;
    const scopes = new Set(String(token.scope ?? '').split(' '));
    if (!admin?.roles.includes('admin') || !scopes.has('admin') || (token.extra as { act?: unknown } | undefined)?.act) {
      throw new errors.InvalidGrant('subject_token must belong to an administrator and carry the admin scope');
    }
    try {
      const minted = await impersonation.mint({
        adminId: admin.id, targetId: p.requested_subject, clientId: ctx.oidc.client!.clientId, reason: p.reason,
        origin: { ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512) || null },
      });
      ctx.body = { ...minted, issued_token_type: ACCESS_TOKEN_TYPE };
    } catch (e) {
      throw asProviderError(e, 'token'); // the admin's policy refused: invalid_request or invalid_grant
    }
  }, PARAMS);
  return provider;
}
