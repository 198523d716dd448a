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
import { pageLanguage, type LocaleState } from '../../http/locale.ts';
import type { Translate } from '../../render/i18n.ts';
import type { AppError } from '../../errors/app-error.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_PROBLEM_TEXT } from '../password.ts';
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

/** The account area's navigation: path and the catalog key of its label. */
export const NAV = [
  ['/account', 'account:nav.profile'], ['/account/email', 'account:nav.email'], ['/account/password', 'account:nav.password'],
  ['/account/security', 'account:nav.security'], ['/account/sessions', 'account:nav.sessions'], ['/account/apps', 'account:nav.apps'],
  ['/account/identities', 'account:nav.identities'], ['/account/workspaces', 'account:nav.workspaces'],
] as const;

/** Pages below /account whose first path segment is not a nav entry of its own. */
const NAV_ALIASES: Record<string, string> = { profile: '/account', 'verify-email': '/account/email' };

/** The nav entry a path belongs to, by its first segment below /account (a POST keeps its page's highlight). */
export function navCurrent(path: string): string | undefined {
  const segment = path.split('/')[2] ?? '';
  if (!segment) return '/account';
  const own = `/account/${segment}`;
  if (NAV.some(([p]) => p === own)) return own;
  return NAV_ALIASES[segment];
}

/** The signed-in viewer's `locale` decides the language of the pages (after the app's ui_locales). */
export function adoptUserLocale(ctx: Context): void {
  const user = (ctx.state.viewer as { user?: { locale?: string | null } } | undefined)?.user;
  if (user?.locale && !(ctx.state as LocaleState).userLocale) (ctx.state as LocaleState).userLocale = user.locale;
}

/** The translator for this request's page language (the viewer's locale counts). */
export function translatorFor(deps: Pick<AccountDeps, 'views'>, ctx: Context): Translate {
  adoptUserLocale(ctx);
  return deps.views.i18n.translator(pageLanguage(ctx));
}

/** The titles of account pages whose handlers live elsewhere (src/federation/identities.pages.ts). */
const TEMPLATE_TITLES: Record<string, (t: Translate, data: Record<string, unknown>) => string> = {
  'account/identities': (t) => t('account:identities.title'),
  'account/identity-unlink': (t, data) => t('account:identities.unlinkTitle', { name: (data.identity as { display_name?: string } | undefined)?.display_name ?? '' }),
};

/**
 * Every account page: the area's nav (with the console for admins), the nav entry the page is
 * under, who is signed in, and a notice key turned into its words. Also the renderer of the
 * /account/workspaces and /account/identities pages.
 */
export function createAccountPageRenderer(deps: Pick<AccountDeps, 'views' | 'config'>): PageRenderer {
  const render = createPageRenderer({
    views: deps.views,
    secure: deps.config.issuer.startsWith('https:'),
    extra: (ctx, data) => {
      const viewer = (ctx.state.viewer as { user?: { roles?: string[] } } | undefined)?.user;
      const notice = typeof data.notice === 'string' && Object.hasOwn(NOTICES, data.notice)
        ? deps.views.i18n.translator(pageLanguage(ctx))(NOTICES[data.notice as NoticeKey])
        : data.notice;
      return {
        nav: NAV, current: data.current ?? navCurrent(ctx.path), viewer, notice,
        supportSession: ((ctx.state.viewer as { amr?: string[] } | undefined)?.amr ?? []).includes('support'),
        adminLink: Boolean(viewer?.roles?.includes('admin')),
      };
    },
  });
  return (ctx, template, data, status) => {
    adoptUserLocale(ctx);
    const title = TEMPLATE_TITLES[template]?.(deps.views.i18n.translator(pageLanguage(ctx)), data) ?? data.title;
    render(ctx, template, { ...data, title }, status);
  };
}

/**
 * The one-line notices a page shows after a POST: a key and the catalog key of its words. Only a
 * key travels in the URL, and only these words are ever shown: a link somebody else wrote
 * (`?notice=Call us on …`) shows nothing, so our banner cannot be made to say what we did not.
 */
export const NOTICES = {
  'profile-saved': 'account:notices.profileSaved',
  'email-changed': 'account:notices.emailChanged',
  'email-already-verified': 'account:notices.emailAlreadyVerified',
  'totp-already-active': 'account:notices.totpAlreadyActive',
  'totp-on': 'account:notices.totpOn',
  'totp-removed': 'account:notices.totpRemoved',
  'passkey-added': 'account:notices.passkeyAdded',
  'passkey-removed': 'account:notices.passkeyRemoved',
  'session-ended': 'account:notices.sessionEnded',
  'app-revoked': 'account:notices.appRevoked',
  'password-set': 'account:notices.passwordSet',
  'identity-linked': 'account:notices.identityLinked',
  'identity-unlinked': 'account:notices.identityUnlinked',
} as const;
export type NoticeKey = keyof typeof NOTICES;

/** Where a page sends the browser to show `notice` (for a JSON answer that redirects in script). */
export const withNotice = (path: string, notice?: NoticeKey): string => (notice ? `${path}?notice=${notice}` : path);

/** After a POST: back to a page with a one-line notice (no resubmission on reload). */
export function back(ctx: Context, path: string, notice?: NoticeKey): void {
  ctx.redirect(withNotice(path, notice));
  ctx.status = 303;
}

/**
 * The notice key the URL asks for, if it is one of ours (the account renderer shows its words);
 * anything else shows nothing.
 */
export function noticeOf(ctx: Context): NoticeKey | undefined {
  const key = ctx.query.notice;
  return typeof key === 'string' && Object.hasOwn(NOTICES, key) ? key as NoticeKey : undefined;
}

const ERROR_CODES = ['wrong_password', 'password_exists', 'same_email', 'email_taken', 'invalid_email'] as const;

/** A refused change (an AppError from the lifecycle) in the page's language; its English message otherwise. */
export function errorWords(t: Translate, e: AppError): string {
  if (e.code === 'weak_password') {
    const problem = (Object.keys(PASSWORD_PROBLEM_TEXT) as Array<keyof typeof PASSWORD_PROBLEM_TEXT>).find((k) => PASSWORD_PROBLEM_TEXT[k] === e.message);
    if (problem) return t(`account:errors.${problem}`, { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH });
  }
  return (ERROR_CODES as readonly string[]).includes(e.code) ? t(`account:errors.${e.code}`) : e.message;
}
