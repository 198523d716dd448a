// What we add to every provider instance: our per-request middleware for the requests that reach
// it directly (src/oidc/fast-path.ts), a count of issued tokens, and a 503 with a clear error
// instead of its generic 500 server_error when Postgres or Redis fails inside it.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Views } from '../render/views.ts';
import { countTokenIssued, countUnavailable, labelProviderPaths } from '../observability/metrics.ts';
import { backingServiceFailure, rotationPending } from '../storage/failures.ts';
import { answerUnavailable } from './provider-pages.ts';
import { directMiddleware } from './fast-path.ts';
import { PROVIDER_PATH_LABELS, rewriteServerErrors, useOutermost } from './internals.ts';

export function observeProvider(provider: Provider, deps: { views: Views; log: Logger }): Provider {
  // Outermost of all the provider's middleware, before answerStoreFailures and catchEscapedErrors
  // (src/oidc/provider.ts): the request line and metrics record the status those turn a failure
  // into (a 503 for a store failure after the handler, e.g. a refresh rotation's settling write),
  // not the one the handler had set before.
  useOutermost(provider, directMiddleware(deps.log));
  labelProviderPaths(PROVIDER_PATH_LABELS.paths, PROVIDER_PATH_LABELS.patterns);
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    if (typeof grantType === 'string') countTokenIssued(grantType);
  });
  rewriteServerErrors(provider, (ctx: KoaContextWithOIDC, err: Error) => {
    const backend = backingServiceFailure(err);
    if (!backend) {
      deps.log.error({ err, path: ctx.path }, 'provider server error');
      return;
    }
    countUnavailable(err);
    if (rotationPending(err)) deps.log.info({ path: ctx.path }, 'refresh token rotation in flight elsewhere: answered 503');
    else deps.log.warn({ backend, err: err.message, path: ctx.path }, 'backing service unavailable');
    // rewrites the provider's 500 for a store failure (src/oidc/internals.ts, rewriteServerErrors)
    answerUnavailable(deps.views, ctx, !!ctx.response.is('html'));
  });
  return provider;
}
