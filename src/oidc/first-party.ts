// The hosted account pages sign in as Gatehouse's own first-party client; its openid-only grant
// is implied (no consent screen for signing in to your own account).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../clients/client.service.ts';

export async function firstPartyGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  if (oidc.client?.clientId !== ACCOUNT_CLIENT_ID || !oidc.session?.accountId) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(ACCOUNT_CLIENT_ID);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (existing) return existing;
  const grant = new oidc.provider.Grant({ clientId: ACCOUNT_CLIENT_ID, accountId: oidc.session.accountId });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
}
