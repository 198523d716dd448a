// Pages the provider renders itself (errors, logout), drawn with our views so every page looks alike.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Views } from '../render/views.ts';
import type { Context, Middleware } from 'koa';
import { backingServiceFailure, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE } from '../storage/failures.ts';
import { countUnavailable } from '../observability/metrics.ts';

const FRIENDLY: Record<string, string> = {
  invalid_redirect_uri: 'The app sent you here with a return address it has not registered, so we stopped before sending you anywhere.',
  invalid_client: 'The app that sent you here is not known to this server.',
  invalid_request: 'The sign-in request from the app was not valid.',
  session_not_found: 'Your sign-in attempt expired or was already completed. Go back to the app and start again.',
  access_denied: 'Access was denied.',
};

/**
 * The one answer to a store failure in the provider's part of the server: a 503 with Retry-After,
 * the error page for a browser (`html`), else the spec-shaped JSON error.
 */
export function answerUnavailable(views: Views, ctx: Context, html: boolean): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (html) {
    ctx.type = 'html';
    ctx.body = views.render('error', { title: 'Temporarily unavailable', heading: 'Temporarily unavailable', message: UNAVAILABLE_MESSAGE });
  } else {
    ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_MESSAGE };
  }
}

export function renderProviderError(views: Views, ctx: KoaContextWithOIDC, out: Record<string, unknown>, error: unknown): void {
  const code = String(out.error ?? 'server_error');
  if (backingServiceFailure(error)) return answerUnavailable(views, ctx, true); // see src/oidc/events.ts: a 503, not the provider's 500
  ctx.type = 'html';
  ctx.body = views.render('error', {
    title: 'Something went wrong',
    heading: 'We could not complete this request',
    message: FRIENDLY[code] ?? 'Go back to the app you came from and try again.',
    error: code,
    errorDescription: typeof out.error_description === 'string' ? out.error_description : undefined,
  });
}

export function renderLogout(views: Views, ctx: KoaContextWithOIDC, form: string): void {
  ctx.type = 'html';
  ctx.body = views.render('logout', {
    title: 'Sign out',
    form,
    clientName: ctx.oidc.client?.clientName,
    host: ctx.host,
  });
}

export function renderLogoutSuccess(views: Views, ctx: KoaContextWithOIDC): void {
  ctx.type = 'html';
  ctx.body = views.render('logout-success', { title: 'Signed out', clientName: ctx.oidc.client?.clientName });
}

/**
 * The provider's own error handling covers its route handlers only: a store failure in what runs
 * around them (middleware added with provider.use, the session save after a handler) would reach
 * Koa's default handler, a bare 500. The first middleware of every provider instance: such a
 * failure is a 503 with Retry-After, JSON for API clients, the error page for a browser.
 */
export function answerStoreFailures(views: Views): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!backingServiceFailure(err)) throw err;
      countUnavailable(err);
      answerUnavailable(views, ctx, ctx.method === 'GET' && ctx.accepts('json', 'html') === 'html');
    }
  };
}
