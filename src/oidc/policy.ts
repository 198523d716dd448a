// The interaction policy: oidc-provider's base prompts (login, consent) plus one check on the
// login prompt — a request that needs MFA (acr_values all needing a second factor, an essential
// acr claim, or a client that requires MFA; src/oidc/acr.ts) from a session that signed in
// without it must step up.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requestNeedsMfa } from './acr.ts';

export const MFA_REQUIRED_REASON = 'mfa_required';

function wantsMfa(ctx: KoaContextWithOIDC): boolean {
  const client = ctx.oidc.client?.metadata() as Record<string, unknown> | undefined;
  return requestNeedsMfa(ctx.oidc.params ?? {}) || client?.require_mfa === true;
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
