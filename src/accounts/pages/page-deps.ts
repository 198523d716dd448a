// What the hosted account pages need (wired once in src/app.ts), their renderer, and the notices a
// page may show after a POST.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AccountService } from '../account.service.ts';
import type { AccountSessionRepo } from '../account-session.repo.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { ProfileService } from '../profile.service.ts';
import type { Audit } from '../../audit/audit.ts';
import type { Config } from '../../config/index.ts';
import type { Mfa } from '../../mfa/index.ts';
import type { AdapterFactory } from '../../storage/short-lived-store.ts';
import type { LimiterFactory } from '../../security/rate-limit.ts';
import type { Views } from '../../render/views.ts';
import { createPageRenderer, type PageRenderer } from '../../http/page.ts';
import type { AccountSession } from './account-sign-in.ts';
import type { ProviderFacade } from '../../oidc/facade.ts';

/** When the user was impersonated, by whom and why (admin/impersonation.ts keeps the record). */
export interface ImpersonationHistory {
  historyFor(userId: string): Promise<Array<{ at: Date; by: string; reason: string }>>;
}

export interface AccountDeps {
  /** the provider, through oidc/'s facade */
  oidc: ProviderFacade;
  accounts: AccountService;
  lifecycle: Lifecycle;
  profile: ProfileService;
  /** the sessions page's record of the provider's sessions */
  sessions: Pick<AccountSessionRepo, 'open' | 'end'>;
  mfa: Mfa;
  audit: Audit;
  adapters: AdapterFactory;
  limiters: LimiterFactory;
  views: Views;
  config: Config;
  log: Logger;
  session: AccountSession;
  impersonation: ImpersonationHistory;
}

/** What the handlers get: the deps and the area's renderer, built once by the router. */
export interface AccountPageDeps extends AccountDeps { page: PageRenderer }

export const NAV = [
  ['/account', 'Profile'], ['/account/email', 'Email'], ['/account/password', 'Password'], ['/account/security', 'Security'],
  ['/account/sessions', 'Sessions'], ['/account/apps', 'Apps'], ['/account/identities', 'Linked sign-ins'],
] as const;

/** Every account page: the area's nav, the page it is on, and who is signed in. */
export function createAccountPageRenderer(deps: Pick<AccountDeps, 'views' | 'config'>): PageRenderer {
  return createPageRenderer({
    views: deps.views,
    secure: deps.config.issuer.startsWith('https:'),
    extra: (ctx, data) => ({ nav: NAV, current: data.current ?? ctx.path, viewer: ctx.state.viewer?.user }),
  });
}

/**
 * The one-line notices a page shows after a POST, by key. Only a key travels in the URL, and only
 * these words are ever shown: a link somebody else wrote (`?notice=Call us on …`) shows nothing,
 * so our banner cannot be made to say what we did not.
 */
export const NOTICES = {
  'profile-saved': 'Profile saved.',
  'email-changed': 'Your email address was changed.',
  'email-already-verified': 'Your email is already verified.',
  'totp-already-active': 'Your authenticator app is already set up.',
  'totp-on': 'Two-step verification is on.',
  'totp-removed': 'The authenticator app was removed.',
  'passkey-added': 'Passkey added.',
  'passkey-removed': 'The passkey was removed.',
  'session-ended': 'Signed out of that session.',
  'app-revoked': 'Access removed.',
  'password-set': 'Password set. You can now sign in with your email and this password too.',
  'identity-linked': 'Linked. You can now sign in with it too.',
  'identity-unlinked': 'Unlinked. It no longer signs you in here.',
} as const;
export type NoticeKey = keyof typeof NOTICES;

/** Where a page sends the browser to show `notice` (for a JSON answer that redirects in script). */
export const withNotice = (path: string, notice?: NoticeKey): string => (notice ? `${path}?notice=${notice}` : path);

/** After a POST: back to a page with a one-line notice (no resubmission on reload). */
export function back(ctx: Context, path: string, notice?: NoticeKey): void {
  ctx.redirect(withNotice(path, notice));
  ctx.status = 303;
}

/** The notice the URL asks for, if it is one of ours; anything else shows nothing. */
export function noticeOf(ctx: Context): string | undefined {
  const key = ctx.query.notice;
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : undefined;
}
