// The interaction policy: oidc-provider's base prompts (login, consent), with two changes. The login
// prompt gets one check: a request that needs MFA (acr_values all needing a second factor, an
// essential acr claim, or a client that requires MFA; src/oidc/acr.ts) from a session that signed
// in without it must step up. The consent prompt is not forced by a prompt=consent that Gatehouse
// added itself for offline_access (src/oidc/offline-access.ts).
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requestNeedsMfa } from './acr.ts';
import { consentImpliedForOfflineAccess } from './offline-access.ts';
import { consentPromptRequested, LIBRARY_CONSENT_PROMPT_CHECK } from './internals.ts';

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
  // The consent prompt's own check ("prompt=consent asks"), except for a consent Gatehouse added for
  // offline_access (src/oidc/offline-access.ts): that one is asked only for scopes the user has not
  // granted this app yet, which the consent prompt's other checks (op_scopes_missing, …) find.
  const consent = policy.get('consent')!;
  consent.checks.remove(LIBRARY_CONSENT_PROMPT_CHECK);
  consent.checks.add(new interactionPolicy.Check(
    LIBRARY_CONSENT_PROMPT_CHECK,
    'consent prompt was not resolved',
    'consent_required',
    (ctx: KoaContextWithOIDC) => {
      if (!consentPromptRequested(ctx)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return consentImpliedForOfflineAccess(ctx) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    },
  ), 0);
  return policy;
}
