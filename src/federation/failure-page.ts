// The pages a failed upstream sign-in ends on: what happened in plain words, and a way forward
// ("try another way" → the same request's sign-in page; "start again"; for a cancel, "return to
// the app", which tells the app access_denied as the spec has it). Never the upstream's raw text.
// The words are in locales/<lang>/errors.json (errors:federation.*), in the page's language.
import type { Context } from 'koa';
import type { PageRenderer } from '../http/page.ts';
import { pageLanguage } from '../http/locale.ts';
import type { Views } from '../render/views.ts';
import type { FailureReason } from './upstream-client.ts';

/** The HTTP status of each failure; its title and message are errors:federation.failure.<reason>.* */
export const FAILURE_STATUS: Record<FailureReason, number> = {
  cancelled: 400, upstream_error: 502, state_mismatch: 400, iss_mismatch: 400, bad_token: 400, unavailable: 503,
  no_verified_email: 403, email_not_trusted: 403, no_email: 403, domain_not_allowed: 403, tenant_not_allowed: 403,
  hosted_domain: 403, signup_not_allowed: 403, provider_disabled: 403, disabled: 403, expired: 400, misconfigured: 503,
};

export interface FailureView {
  status: number;
  /** catalog keys (errors:…), translated with `vars` */
  title: string; message: string; vars?: Record<string, unknown>;
  tryAnother?: string; startAgain?: string; abortUrl?: string;
}

/** The failure of `reason` with the provider's display name (or "the provider" in the page's language). */
export function failureView(reason: FailureReason, provider: string | undefined): Pick<FailureView, 'status' | 'title' | 'message' | 'vars'> {
  return {
    status: FAILURE_STATUS[reason],
    title: `errors:federation.failure.${reason}.title`, message: `errors:federation.failure.${reason}.message`,
    vars: provider === undefined ? { providerKey: true } : { provider },
  };
}

export function failurePage(deps: { page: PageRenderer; views: Views }, ctx: Context, view: FailureView): void {
  const t = deps.views.i18n.translator(pageLanguage(ctx));
  const vars = view.vars?.providerKey ? { provider: t('errors:federation.theProvider') } : view.vars;
  deps.page(ctx, 'federation/failed', { ...view, title: t(view.title, vars), message: t(view.message, vars) }, view.status);
}
