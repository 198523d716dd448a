// What we add to every provider instance: our per-request middleware for the requests that reach
// it directly (src/http/fast-path.ts), a count of issued tokens, and a 503 with a clear error
// instead of its generic 500 server_error when Postgres or Redis fails inside it.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Views } from '../views/render.ts';
import { countBackendError, countTokenIssued } from '../observability/metrics.ts';
import { backingServiceFailure, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE } from '../storage/failures.ts';
import { directMiddleware } from '../http/fast-path.ts';

/**
 * The provider has already written its 500 (JSON, or a page through renderError) when it emits
 * server_error; the response is sent only after the middleware returns, so we may still rewrite it.
 */
function answerUnavailable(views: Views, ctx: KoaContextWithOIDC): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (ctx.response.is('html')) {
    ctx.body = views.render('error', { title: 'Temporarily unavailable', heading: 'Temporarily unavailable', message: UNAVAILABLE_MESSAGE });
  } else {
    ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_MESSAGE };
  }
}

export function observeProvider(provider: Provider, deps: { views: Views; log: Logger }): Provider {
  provider.use(directMiddleware(deps.log));
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    if (typeof grantType === 'string') countTokenIssued(grantType);
  });
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    const backend = backingServiceFailure(err);
    if (!backend) {
      deps.log.error({ err, path: ctx.path }, 'provider server error');
      return;
    }
    countBackendError(backend);
    deps.log.warn({ backend, err: err.message, path: ctx.path }, 'backing service unavailable');
    answerUnavailable(deps.views, ctx);
  });
  return provider;
}
