// What every interaction handler needs, and the one helper that loads an interaction and asserts
// the prompt it expects (a POST for the wrong prompt is a stale tab, not a crash).
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
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

export interface InteractionDeps {
  provider: () => Provider;
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

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export async function loadInteraction(deps: InteractionDeps, ctx: Context, expected?: string): Promise<Details> {
  const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
  if (expected && details.prompt.name !== expected) {
    throw new AppError(400, 'interaction_state', 'This step is no longer current. Go back to the app and start again.');
  }
  return details;
}

export async function clientName(deps: InteractionDeps, clientId: unknown): Promise<string> {
  const client = typeof clientId === 'string' ? await deps.provider().Client.find(clientId) : undefined;
  return client?.clientName ?? 'an application';
}

export function page(deps: InteractionDeps, ctx: Context, template: string, data: Record<string, unknown> & { title: string }, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = deps.views.render(template, { ...data, csrf: csrfToken(ctx, deps.config.issuer.startsWith('https:')) });
}

/** Ends the interaction and sends the browser back to the authorization endpoint (303, RFC 9700 §4.12). */
export async function finish(deps: InteractionDeps, ctx: Context, result: Record<string, unknown>, merge: boolean): Promise<void> {
  const url = await deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.redirect(url);
  ctx.status = 303;
}

export function clientIp(ctx: Context): string { return ctx.ip || 'unknown'; }
