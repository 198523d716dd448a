// What the hosted account pages need, wired once in src/app.ts.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AccountService } from '../account.service.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Audit } from '../../audit/audit.ts';
import type { Config } from '../../config/index.ts';
import type { Knex } from 'knex';
import type { Mfa } from '../../mfa/index.ts';
import type { AdapterFactory } from '../../storage/short-lived-store.ts';
import type { LimiterFactory } from '../../security/rate-limit.ts';
import type { Views } from '../../render/views.ts';
import { csrfToken } from '../../security/csrf.ts';
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
  mfa: Mfa;
  audit: Audit;
  adapters: AdapterFactory;
  limiters: LimiterFactory;
  views: Views;
  config: Config;
  knex: Knex;
  log: Logger;
  session: AccountSession;
  impersonation: ImpersonationHistory;
}

export const NAV = [
  ['/account', 'Profile'], ['/account/email', 'Email'], ['/account/password', 'Password'], ['/account/security', 'Security'],
  ['/account/sessions', 'Sessions'], ['/account/apps', 'Apps'],
] as const;

export function accountPage(deps: AccountDeps, ctx: Context, template: string, data: Record<string, unknown> & { title: string }, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = deps.views.render(template, {
    ...data, nav: NAV, current: data.current ?? ctx.path, viewer: ctx.state.viewer?.user,
    csrf: csrfToken(ctx, deps.config.issuer.startsWith('https:')),
  });
}

/** After a POST: back to a page with a one-line notice (no resubmission on reload). */
export function back(ctx: Context, path: string, notice?: string): void {
  ctx.redirect(notice ? `${path}?notice=${encodeURIComponent(notice)}` : path);
  ctx.status = 303;
}

export const noticeOf = (ctx: Context): string | undefined => (typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined);
