// What every interaction handler needs, and the one helper that loads an interaction and asserts
// the prompt it expects (a POST for the wrong prompt is a stale tab, not a crash). Every handler
// follows the same four steps: load the details, assert the prompt, do one thing, finish.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountCache } from '../accounts/account-cache.ts';
import type { Config, SignupPolicy } from '../config/index.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Views } from '../render/views.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { LimiterFactory } from '../security/rate-limit.ts';
import type { Mfa } from '../mfa/index.ts';
import type { Lifecycle } from '../accounts/lifecycle.ts';
import type { Audit } from '../audit/audit.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import { createPageRenderer, type PageRenderer } from '../http/page.ts';
import type { DeviceCookies } from '../security/device-cookie.ts';
import { isSupportAmr } from '../oidc/support-session.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/client.service.ts';
import { AppError } from '../errors/app-error.ts';
import type { Interaction, InteractionResult, ProviderFacade } from '../oidc/facade.ts';
import type { LocaleState } from '../http/locale.ts';
import { pageLanguage } from '../http/locale.ts';
import type { Translate } from '../render/i18n.ts';
import { appLinks, type AppView } from './app-view.ts';
import { noteInteraction, rememberReturn } from './dead-end.ts';

export interface InteractionDeps {
  /** the provider, through oidc/'s facade */
  oidc: ProviderFacade;
  accounts: AccountService;
  /** the provider's account cache (src/accounts/account-cache.ts): the page language's account lookup, no query when warm */
  accountCache: Pick<AccountCache, 'findActive'>;
  views: Views;
  mailer: Mailer;
  adapters: AdapterFactory;
  limiters: LimiterFactory;
  config: Config;
  log: Logger;
  mfa: Mfa;
  lifecycle: Lifecycle;
  audit: Audit;
  workspaces: WorkspaceService;
  /** the browsers known for an address (sign-in and second factor share them) */
  devices: DeviceCookies;
  /** signing in through upstream providers (src/federation/ implements it); absent: passwords only */
  upstream?: UpstreamSignIn;
}

/** A "Continue with …" button on the sign-in page. */
export interface UpstreamButton { name: string; displayName: string; icon?: string; url: string }

/**
 * What the hosted sign-in asks of upstream sign-in (src/federation/upstream-port.ts): the port keeps
 * interactions/ below federation/, which builds on the second-factor step here.
 */
export interface UpstreamSignIn {
  /** the buttons for this request's app, whether it offers passwords, and an upstream identity waiting to be linked */
  loginView(details: Details): Promise<{ buttons: UpstreamButton[]; passwordSignIn: boolean; linking?: { provider: string; email: string } }>;
  /** idp=<name> (or an email at a provider's home-realm domain): where to send the browser instead */
  redirectFor(details: Details, email?: string): Promise<string | undefined>;
  /** a sign-in of `accountId` completes this interaction: link the upstream identity it proved */
  signedIn(ctx: Context, details: Details, accountId: string): Promise<void>;
}

/** What the handlers get: the deps, and the interaction pages' renderer (built once, by the router). */
export interface InteractionHandlerDeps extends InteractionDeps {
  page: PageRenderer;
}

/** The interaction pages' renderer: the one page renderer (src/http/page.ts), nothing area-specific. */
export function withInteractionPage(deps: InteractionDeps): InteractionHandlerDeps {
  return { ...deps, page: createPageRenderer({ views: deps.views, secure: deps.config.issuer.startsWith('https:') }) };
}

export type Details = Interaction;

/** The prompts the hosted pages answer (src/oidc/policy.ts, src/oidc/workspace-prompt.ts). */
export const PROMPTS = { login: 'login', workspace: 'workspace', consent: 'consent' } as const;
export type PromptName = typeof PROMPTS[keyof typeof PROMPTS];

/**
 * The interaction of this request; with `expected`, only while its prompt is that one (or one of
 * those): a form of an earlier step, posted from a stale tab, is a 400 page, not a wrong turn.
 */
export async function loadInteraction(deps: InteractionDeps, ctx: Context, expected?: PromptName | readonly PromptName[]): Promise<Details> {
  const details = await deps.oidc.interactionDetails(ctx);
  noteInteraction(ctx, details.uid, details.params.client_id);
  await speakTheirLanguage(deps, ctx, details);
  // a support session (src/admin/impersonation.ts) is for the account pages only: it signs in to no
  // app, approves no device, and never signs in again or steps up (that would drop its marking)
  if (isSupportAmr(details.session?.amr) && (details.params.client_id !== ACCOUNT_CLIENT_ID || details.prompt.name === 'login')) {
    throw new AppError(403, 'support_session', 'errors:message.supportSessionApps');
  }
  const allowed: readonly string[] | undefined = typeof expected === 'string' ? [expected] : expected;
  if (allowed && !allowed.includes(details.prompt.name)) {
    throw new AppError(400, 'interaction_state', STALE_STEP);
  }
  return details;
}

/** A catalog key as an AppError message: the error page (src/http/middleware.ts) translates it. */
export const STALE_STEP = 'errors:message.stale';

/**
 * The language of this interaction's pages: the app's `ui_locales` wins, then the signed-in
 * account's `locale` (only looked up when the app named no language), then Accept-Language
 * (src/http/locale.ts).
 */
async function speakTheirLanguage(deps: InteractionDeps, ctx: Context, details: Details): Promise<void> {
  const state = ctx.state as LocaleState;
  const uiLocales = details.params.ui_locales;
  if (typeof uiLocales === 'string' && uiLocales.trim()) { state.uiLocales = uiLocales; return; }
  if (details.session?.accountId && !state.userLocale) {
    const account = await deps.accountCache.findActive(details.session.accountId);
    if (account?.locale) state.userLocale = account.locale;
  }
}

/** The translator of this request's page language. */
export function translatorFor(deps: InteractionDeps, ctx: Context): Translate {
  return deps.views.i18n.translator(pageLanguage(ctx));
}

export async function clientName(deps: InteractionDeps, clientId: unknown, ctx?: Context): Promise<string> {
  const name = typeof clientId === 'string' ? await deps.oidc.clientName(clientId) : undefined;
  return name ?? (ctx ? translatorFor(deps, ctx)('signin:anApplication') : 'an application');
}

/** The app of this request as its pages show it: name, logo, policy and terms links, sign-up policy. */
export async function appView(deps: InteractionDeps, ctx: Context, details: Details): Promise<AppView> {
  const clientId = details.params.client_id;
  const metadata = typeof clientId === 'string' ? await deps.oidc.clientMetadata(clientId) : undefined;
  const name = typeof metadata?.client_name === 'string' && metadata.client_name ? metadata.client_name : await clientName(deps, clientId, ctx);
  return { clientName: name, ...appLinks(metadata ?? {}), signupPolicy: signupPolicyOf(deps.config, metadata) };
}

/** The app's own sign-up policy (client metadata `signup_policy`) overrides GATEHOUSE_SIGNUP. */
export function signupPolicyOf(config: Config, metadata: Record<string, unknown> | undefined): SignupPolicy {
  const own = metadata?.signup_policy;
  return own === 'open' || own === 'invitation' || own === 'closed' ? own : config.signup;
}


/** Ends the interaction and sends the browser back to the authorization endpoint (303, RFC 9700 §4.12). */
export async function finish(deps: InteractionDeps, ctx: Context, result: InteractionResult, merge: boolean): Promise<void> {
  const url = await deps.oidc.finishInteraction(ctx, result, { merge });
  // Back after this, or the link opened again, finds the app to start again with (./dead-end.ts)
  await rememberReturn(deps, ctx);
  ctx.redirect(url);
  ctx.status = 303;
}

export function clientIp(ctx: Context): string { return ctx.ip || 'unknown'; }
