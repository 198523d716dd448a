// The pages a failed upstream sign-in ends on: what happened in plain words, and a way forward
// ("try another way" → the same request's sign-in page; "start again"; for a cancel, "return to
// the app", which tells the app access_denied as the spec has it). Never the upstream's raw text.
import type { Context } from 'koa';
import type { PageRenderer } from '../http/page.ts';
import type { FailureReason } from './upstream-client.ts';

interface Text { status: number; title: string; message: string }

export const FAILURE_TEXT: Record<FailureReason, (provider: string) => Text> = {
  cancelled: (p) => ({ status: 400, title: 'Sign-in cancelled', message: `${p} did not sign you in: the sign-in was cancelled or declined there.` }),
  upstream_error: (p) => ({ status: 502, title: 'Sign-in did not work', message: `${p} answered with an error. Try again, or sign in another way.` }),
  state_mismatch: () => ({ status: 400, title: 'Sign-in could not be checked', message: 'This answer does not belong to a sign-in started in this browser, so it was not used. Start again from your app.' }),
  iss_mismatch: (p) => ({ status: 400, title: 'Sign-in could not be checked', message: `The answer did not come from ${p} as registered, so it was not used. Start again.` }),
  bad_token: (p) => ({ status: 400, title: 'Sign-in could not be checked', message: `The sign-in from ${p} failed its security checks, so it was not used. Start again.` }),
  unavailable: (p) => ({ status: 503, title: `${p} is not answering`, message: `${p} did not answer in time. Try again in a minute, or sign in another way.` }),
  no_verified_email: (p) => ({ status: 403, title: 'No verified email', message: `Your ${p} account has no verified primary email address. Verify one at ${p}, then try again — or sign in another way.` }),
  email_not_trusted: (p) => ({ status: 403, title: 'Email address not confirmed', message: `${p} did not confirm that this email address is yours, so no account can be made with it here. Sign in another way, or ask your administrator.` }),
  no_email: (p) => ({ status: 403, title: 'No email address', message: `${p} did not share an email address, which is needed to sign you in here. Sign in another way.` }),
  domain_not_allowed: (p) => ({ status: 403, title: 'This account cannot sign in here', message: `Accounts with that email domain cannot sign in with ${p} here. Sign in another way, or ask your administrator.` }),
  tenant_not_allowed: (p) => ({ status: 403, title: 'This organisation cannot sign in here', message: `Your ${p} organisation is not one that may sign in here. Sign in another way, or ask your administrator.` }),
  hosted_domain: (p) => ({ status: 403, title: 'This account cannot sign in here', message: `Only accounts of the organisation's own ${p} domain can sign in here. Choose that account, or sign in another way.` }),
  signup_not_allowed: (p) => ({ status: 403, title: 'No account here yet', message: `There is no account here for your ${p} sign-in, and new accounts cannot be created with ${p}. Sign in another way, or ask your administrator for an account.` }),
  provider_disabled: (p) => ({ status: 403, title: 'Sign-in option switched off', message: `Signing in with ${p} was switched off while you were there. Sign in another way.` }),
  disabled: () => ({ status: 403, title: 'Account disabled', message: 'This account is disabled. Contact your administrator.' }),
  expired: () => ({ status: 400, title: 'This sign-in has expired', message: 'The sign-in took too long or was already used. Go back to your app and start again.' }),
  misconfigured: (p) => ({ status: 503, title: `${p} is not set up correctly`, message: `Signing in with ${p} is not set up correctly here. Sign in another way, or tell your administrator.` }),
};

export interface FailureView {
  status: number; title: string; message: string;
  tryAnother?: string; startAgain?: string; abortUrl?: string;
}

export function failurePage(deps: { page: PageRenderer }, ctx: Context, view: FailureView): void {
  deps.page(ctx, 'federation/failed', { ...view }, view.status);
}
