// Cross-cutting middleware: request ids and one log line per request, security headers, and the
// single error translator (JSON for APIs, a page for browsers; never a stack trace).
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { AppError } from '../errors/app-error.ts';
import type { Views } from '../render/views.ts';
import { backingServiceFailure, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE } from '../storage/failures.ts';
import { countUnavailable } from '../observability/metrics.ts';
import type { Translate } from '../render/i18n.ts';
import { hasKey, isSessionNotFound, renderErrorPage, translated } from './error-page.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's X-Request-Id when it is a plain token, else a new one. */
export function requestId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface RequestLine { req_id: string; method: string; path: string; status: number; ms: number }

/**
 * Writes one line per request. The line holds no secret (see loggedPath: never the query, never a
 * route parameter), so it skips redaction: about half of a log line's cost, on every request.
 */
export function requestLines(log: Logger): (line: RequestLine) => void {
  const lines = log.child({}, { redact: [] });
  return (line) => { line.ms = Math.round(line.ms * 10) / 10; lines.info(line, 'request'); };
}

/**
 * The path a request line records: the pattern of the route our routers matched (e.g.
 * /account/reset/:token), else the path. Never the query string, and never a route parameter: a
 * parameter may be a mailed secret, and whoever reads the logs must not be able to use one.
 */
export function loggedPath(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : redactTokens(ctx.path);
}

/**
 * A request refused before any route matched (a 421, a 400 for bad input, a wrong method) has no
 * pattern: every segment that looks like a secret (16+ base64url characters) is replaced.
 */
export function redactTokens(path: string): string {
  return path.split('/').map((seg) => (/^[A-Za-z0-9_-]{16,}$/.test(seg) ? ':redacted' : seg)).join('/');
}

export function requestLog(log: Logger) {
  const write = requestLines(log);
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const id = requestId(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      write({ req_id: id, method: ctx.method, path: loggedPath(ctx), status: ctx.respond === false ? ctx.res.statusCode : ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    }
  };
}

// Set before the handler runs, so oidc-provider can add the hash of its one inline script (the
// form_post response) to script-src.
const CSP = [
  "default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self'", "img-src 'self' data: https:",
  "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

/**
 * HTTPS issuers only (RFC 6797; a browser ignores it over http anyway). A year, the common floor for
 * preload lists; includeSubDomains because an identity provider's host has no business serving
 * anything over plain http below it either. Not `preload`: that is a commitment for the operator.
 */
export const HSTS = 'max-age=31536000; includeSubDomains';

/** Before the handler: no framing, no referrer, a strict CSP; HSTS when the issuer is https. */
export function setSecurityHeaders(ctx: Context, https = false): void {
  if (https) ctx.set('Strict-Transport-Security', HSTS);
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

/** After the handler: HTML is never cached. */
export function finishSecurityHeaders(ctx: Context): void {
  if (ctx.response.is('html')) ctx.set('Cache-Control', 'no-store');
}

/** Every response: no framing, no referrer, a strict CSP, HSTS for an https issuer; HTML is never cached. */
export function securityHeaders(issuer: string) {
  const https = new URL(issuer).protocol === 'https:';
  return async (ctx: Context, next: Next) => {
    setSecurityHeaders(ctx, https);
    await next();
    finishSecurityHeaders(ctx);
  };
}

function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/api/') || (!ctx.accepts('html') && !!ctx.accepts('json'));
}

export function errorHandler(log: Logger, views: Views) {
  const english = views.i18n.translator('en');
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      let status = 500; let code = 'server_error'; let message = english('errors:message.server');
      if (err instanceof AppError) {
        status = err.status; code = err.code; if (err.expose) message = err.message;
      } else if (err instanceof ZodError) {
        status = 400; code = 'invalid_request'; message = err.issues[0]?.message ?? 'Invalid input.';
      } else if (isSessionNotFound(err)) {
        // oidc-provider's "interaction session not found": plain words, never its technical text
        status = 400; code = 'session_not_found'; message = 'errors:provider.session_not_found';
      } else if ((err as { expose?: boolean; status?: number }).expose && (err as { status?: number }).status) {
        const e = err as { status: number; message: string; error?: string; error_description?: string };
        status = e.status; code = e.error ?? 'invalid_request'; message = e.error_description ?? e.message;
      } else if (backingServiceFailure(err)) {
        status = 503; code = 'temporarily_unavailable'; message = UNAVAILABLE_MESSAGE;
        countUnavailable(err);
      }
      if (status >= 500) log.error({ err, req_id: ctx.state.requestId }, 'request failed');
      ctx.status = status;
      if (status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (wantsJson(ctx)) {
        ctx.body = { error: code, message: translated(views.i18n, english, message) };
      } else {
        renderErrorPage(views, ctx, status, (t) => ({
          heading: t(status === 503 ? 'errors:heading.unavailable' : status >= 500 ? 'errors:heading.server' : 'errors:heading.client'),
          message: pageMessage(views, t, code, message),
        }));
      }
    }
  };
}

/**
 * The error page's sentence in the page's language: a catalog key (Gatehouse's own errors may carry
 * one), the known sentence of a code (errors:code.<code>, e.g. csrf), the store-failure sentence;
 * else the error's own text (English).
 */
function pageMessage(views: Views, t: Translate, code: string, message: string): string {
  if (message === UNAVAILABLE_MESSAGE) return t('errors:message.unavailable');
  if (message === views.i18n.translator('en')('errors:message.server')) return t('errors:message.server');
  const byKey = translated(views.i18n, t, message);
  if (byKey !== message) return byKey;
  // English keeps the error's own sentence (it may be more precise); other languages get the code's
  if (t === views.i18n.translator('en')) return message;
  return /^[a-z_]+$/.test(code) && hasKey(views.i18n, `errors:code.${code}`) ? t(`errors:code.${code}`) : message;
}
