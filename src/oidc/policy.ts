// The interaction policy: oidc-provider's base prompts (login, consent) plus one check on the
// login prompt — a request that asks for MFA (acr_values=mfa, or a client that requires MFA) from
// a session that signed in without it must step up.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

export const MFA_REQUIRED_REASON = 'mfa_required';

function wantsMfa(ctx: KoaContextWithOIDC): boolean {
  const requested = String(ctx.oidc.params?.acr_values ?? '').split(' ');
  const client = ctx.oidc.client?.metadata() as Record<string, unknown> | undefined;
  return requested.includes('mfa') || client?.require_mfa === true;
}

export function createPolicy() {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(new interactionPolicy.Check(
    MFA_REQUIRED_REASON,
    'multi-factor authentication is required',
    'interaction_required',
    (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc.session;
      if (!session?.accountId || !wantsMfa(ctx)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return session.acr === 'mfa' ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
  ));
  return policy;
}
