// The provider's side of the edge (src/http/input-guard.ts), for every request it answers — also
// the ones that reach it without passing our Koa app (src/oidc/fast-path.ts): no control character
// in a path, query or body, and no request that ends in a bare 500 without our headers.
import Provider, { errors } from 'oidc-provider';
import type { Context, Next } from 'koa';
import type { Views } from '../render/views.ts';
import { renderErrorPage } from '../http/error-page.ts';
import { answerInvalidInput, bodyProblem, controlCharacterIn, pathOrQueryProblem } from '../http/input-guard.ts';
import { setSecurityHeaders } from '../http/middleware.ts';
import { backingServiceFailure } from '../storage/failures.ts';
import { checkBodiesAsStored, reportServerError } from './internals.ts';

const rejectedBodies = new WeakMap<object, string>();

/**
 * A body the provider parsed itself (after our middleware has run) is checked as it is stored,
 * before any of its handlers sees it (src/oidc/internals.ts, checkBodiesAsStored): a control
 * character is refused as the library refuses an unreadable body, and the reason is kept for sayWhy.
 */
function refuseControlCharacters(ctx: Context | undefined, value: unknown): Error | undefined {
  const where = controlCharacterIn(value);
  if (where === undefined) return undefined;
  if (ctx) rejectedBodies.set(ctx, bodyProblem(where));
  return new errors.InvalidRequest(bodyProblem(where));
}

/** A JSON OAuth error that says why, rather than the provider's "failed to parse the request body". */
function sayWhy(ctx: Context): void {
  const why = rejectedBodies.get(ctx);
  const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
  if (why && ctx.status === 400 && body && typeof body === 'object' && !Buffer.isBuffer(body) && body.error === 'invalid_request') {
    body.error_description = why;
  }
}

/**
 * The provider's own error handler answers what its routes throw; this answers what escapes it (a
 * failure in its session bookkeeping, in our middleware around it), which Koa would otherwise send
 * as a bare "Internal Server Error" with every header removed, and print to stderr. The provider's
 * server_error listeners log it, or turn a store failure into a 503 (src/oidc/events.ts).
 */
function answerEscapedError(provider: Provider, views: Views, ctx: Context, err: unknown): void {
  if (ctx.headerSent || !ctx.writable) { reportServerError(provider, ctx, err); return; }
  setSecurityHeaders(ctx, provider.issuer.startsWith('https:'));
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    // a client error raised around the handlers (ctx.throw(413) by a body reader): say so, in the
    // provider's shape
    ctx.status = status;
    const description = typeof message === 'string' ? message : 'The request was not valid.';
    if (ctx.accepts('json', 'html') === 'html') {
      renderErrorPage(views, ctx, status, (t) => ({
        heading: t('errors:heading.client'), message: t('errors:message.unreadableShort'), error: 'invalid_request', errorDescription: description,
      }));
    } else {
      ctx.body = { error: 'invalid_request', error_description: description };
    }
    return;
  }
  ctx.status = 500;
  if (ctx.accepts('json', 'html') === 'html') {
    renderErrorPage(views, ctx, 500, (t) => ({ heading: t('errors:heading.server'), message: t('errors:message.server') }));
  } else {
    ctx.body = { error: 'server_error', error_description: 'Something went wrong on our side. Try again in a moment.' };
  }
  reportServerError(provider, ctx, err);
}

/**
 * Install it before the provider's other middleware but answerStoreFailures (src/oidc/provider-pages.ts),
 * which answers a store failure with a 503: those pass through.
 */
export function catchEscapedErrors(provider: Provider, views: Views): Provider {
  provider.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (backingServiceFailure(err)) throw err;
      answerEscapedError(provider, views, ctx, err);
    }
  });
  return provider;
}

/**
 * The input check, installed after our per-request middleware (src/oidc/index.ts), so a refused
 * request still gets its request id, log line and security headers.
 */
export function guardProviderInput(provider: Provider, views: Views): Provider {
  checkBodiesAsStored(provider, refuseControlCharacters);
  provider.use(async (ctx: Context, next: Next) => {
    const problem = pathOrQueryProblem(ctx);
    if (problem) { answerInvalidInput(ctx, views, problem); return; }
    await next();
    sayWhy(ctx);
  });
  return provider;
}
