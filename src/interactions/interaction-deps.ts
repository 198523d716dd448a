// What every interaction handler needs, and the one helper that loads an interaction and asserts
// the prompt it expects (a POST for the wrong prompt is a stale tab, not a crash). Every handler
// follows the same four steps: load the details, assert the prompt, do one thing, finish.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account.service.ts';
import type { Config } from '../config/index.ts';
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
import { AppError } from '../errors/app-error.ts';
import type { Interaction, InteractionResult, ProviderFacade } from '../oidc/facade.ts';

export interface InteractionDeps {
  /** the provider, through oidc/'s facade */
  oidc: ProviderFacade;
  accounts: AccountService;
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
  const allowed: readonly string[] | undefined = typeof expected === 'string' ? [expected] : expected;
  if (allowed && !allowed.includes(details.prompt.name)) {
    throw new AppError(400, 'interaction_state', 'This step is no longer current. Go back to the app and start again.');
  }
  return details;
}

export async function clientName(deps: InteractionDeps, clientId: unknown): Promise<string> {
  const name = typeof clientId === 'string' ? await deps.oidc.clientName(clientId) : undefined;
  return name ?? 'an application';
}


/** Ends the interaction and sends the browser back to the authorization endpoint (303, RFC 9700 §4.12). */
export async function finish(deps: InteractionDeps, ctx: Context, result: InteractionResult, merge: boolean): Promise<void> {
  const url = await deps.oidc.finishInteraction(ctx, result, { merge });
  ctx.redirect(url);
  ctx.status = 303;
}

export function clientIp(ctx: Context): string { return ctx.ip || 'unknown'; }
