// The HTTP entry: the provider's machine-to-machine endpoints go straight to the provider, the
// rest through our Koa app (src/app.ts), which hands what its routers do not take to the provider.
//
// Why: those endpoints carry nearly all of the traffic (every token, refresh, introspection and
// userinfo call), and the way through our app costs a second Koa context, every router's match and
// the app's middleware on each request — a fifth of a token request's CPU. On the direct way the
// provider runs the same per-request middleware itself (request id and log line, metrics, security
// headers: see directMiddleware, installed by src/oidc/events.ts). Middleware added to src/app.ts
// does NOT run for these paths: add it to directMiddleware too if it must.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { ProviderHost } from '../oidc/host.ts';
import { requestLog, securityHeaders } from './middleware.ts';
import { requestMetrics } from '../observability/metrics.ts';

/** Served by the provider alone; none of our routers claims them. */
export const DIRECT_PATHS = new Set([
  '/token', '/token/introspection', '/token/revocation', '/me', '/jwks', '/.well-known/openid-configuration',
]);

const DIRECT = Symbol('gatehouse.direct');
type MarkedRequest = IncomingMessage & { [DIRECT]?: true };

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function createRequestHandler(app: Koa, host: ProviderHost): (req: IncomingMessage, res: ServerResponse) => void {
  const viaApp = app.callback();
  const direct = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  return (req, res) => {
    if (!DIRECT_PATHS.has(pathOf(req.url))) { void viaApp(req, res); return; }
    (req as MarkedRequest)[DIRECT] = true;
    const provider = host.current(); // replaced when signing keys rotate
    let handle = direct.get(provider);
    if (!handle) { handle = provider.callback(); direct.set(provider, handle); }
    void handle(req, res);
  };
}

/** What src/app.ts does around every request, for the requests that come the direct way only. */
export function directMiddleware(log: Logger): (ctx: Context, next: Next) => Promise<void> {
  const [logLine, metrics, headers] = [requestLog(log), requestMetrics(), securityHeaders()];
  return (ctx, next) => ((ctx.req as MarkedRequest)[DIRECT]
    ? logLine(ctx, () => metrics(ctx, () => headers(ctx, next)))
    : next());
}
