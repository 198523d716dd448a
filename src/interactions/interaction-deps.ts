// What every interaction handler needs, and the one helper that loads an interaction and asserts
// the prompt it expects (a POST for the wrong prompt is a stale tab, not a crash).
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
import { csrfToken } from '../security/csrf.ts';
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
}

export type Details = Interaction;

export async function loadInteraction(deps: InteractionDeps, ctx: Context, expected?: string): Promise<Details> {
  const details = await deps.oidc.interactionDetails(ctx);
  if (expected && details.prompt.name !== expected) {
    throw new AppError(400, 'interaction_state', 'This step is no longer current. Go back to the app and start again.');
  }
  return details;
}

export async function clientName(deps: InteractionDeps, clientId: unknown): Promise<string> {
  const name = typeof clientId === 'string' ? await deps.oidc.clientName(clientId) : undefined;
  return name ?? 'an application';
}

export function page(deps: InteractionDeps, ctx: Context, template: string, data: Record<string, unknown> & { title: string }, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = deps.views.render(template, { ...data, csrf: csrfToken(ctx, deps.config.issuer.startsWith('https:')) });
}

/** Ends the interaction and sends the browser back to the authorization endpoint (303, RFC 9700 §4.12). */
export async function finish(deps: InteractionDeps, ctx: Context, result: InteractionResult, merge: boolean): Promise<void> {
  const url = await deps.oidc.finishInteraction(ctx, result, { merge });
  ctx.redirect(url);
  ctx.status = 303;
}

export function clientIp(ctx: Context): string { return ctx.ip || 'unknown'; }
