// The HTTP entry: the provider's machine-to-machine endpoints go straight to the provider, the
// rest through our Koa app (src/app.ts), which hands what its routers do not take to the provider.
//
// Why: those endpoints carry nearly all of the traffic (every token, refresh, introspection and
// userinfo call), and the way through our app costs a second Koa context, every router's match and
// the app's middleware on each request — a fifth of a token request's CPU. On the direct way the
// provider runs the same per-request middleware itself (request id and log line, metrics, security
// headers: see directMiddleware, installed by src/oidc/events.ts). Middleware added to src/app.ts
// does NOT run for these paths: add it to directMiddleware too if it must.
//
// Discovery and the JWKS, as the provider answers them for the issuer's own origin, are the same
// for every request one provider instance answers (a new instance is built whenever the signing
// keys change: src/oidc/host.ts). The first plain GET of each addressed to the issuer is answered
// by the provider and its response kept for that instance; later plain GETs get the kept bytes
// without entering Koa or the provider, with their own request id, log line and metrics. "Plain":
// no Origin header (the provider echoes the origin in CORS headers, so those go to it). A request
// for another Host gets the issuer's document too once one is kept, never the other way round.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { ProviderHost } from './host.ts';
import { finishSecurityHeaders, requestId, requestLines, setSecurityHeaders } from '../http/middleware.ts';
import { observeContext, observeRequest } from '../observability/metrics.ts';
import { DISCOVERY_PATH, PROVIDER_ROUTES } from './internals.ts';

/** Served by the provider alone; none of our routers claims them. */
export const DIRECT_PATHS: ReadonlySet<string> = new Set([
  PROVIDER_ROUTES.token, PROVIDER_ROUTES.introspection, PROVIDER_ROUTES.revocation, PROVIDER_ROUTES.userinfo,
  PROVIDER_ROUTES.jwks, DISCOVERY_PATH,
]);
/**
 * The provider's endpoints that machines call and that set no cookie, answered whatever the scheme
 * (src/http/require-https.ts, handed them by src/app.ts): the direct ones, device authorization (the
 * device's own POST, RFC 8628) and pushed authorization requests (the app's back channel, RFC 9126).
 */
export const MACHINE_PATHS: readonly string[] = [
  ...DIRECT_PATHS, PROVIDER_ROUTES.device_authorization, PROVIDER_ROUTES.pushed_authorization_request,
];
/** The same answer for every plain GET to one provider instance. */
const STATIC_PATHS: ReadonlySet<string> = new Set([PROVIDER_ROUTES.jwks, DISCOVERY_PATH]);

interface KeptResponse { headers: OutgoingHttpHeaders; body: Buffer }
/** Per provider instance: dropped with it when the keys change. */
const kept = new WeakMap<Provider, Map<string, KeptResponse>>();

const DIRECT = Symbol('gatehouse.direct');
type MarkedRequest = IncomingMessage & { [DIRECT]?: Provider };

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const plainGet = (req: IncomingMessage) => req.method === 'GET' && req.headers.origin === undefined;

export function createRequestHandler(app: Koa, host: ProviderHost, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const viaApp = app.callback();
  const direct = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  const line = requestLines(log);
  return (req, res) => {
    const path = pathOf(req.url);
    if (!DIRECT_PATHS.has(path)) { void viaApp(req, res); return; }
    const provider = host.current(); // replaced when signing keys rotate
    const hit = STATIC_PATHS.has(path) && plainGet(req) ? kept.get(provider)?.get(path) : undefined;
    if (hit) { serveKept(req, res, path, hit, line); return; }
    (req as MarkedRequest)[DIRECT] = provider;
    let handle = direct.get(provider);
    if (!handle) { handle = provider.callback(); direct.set(provider, handle); }
    void handle(req, res);
  };
}

function serveKept(req: IncomingMessage, res: ServerResponse, path: string, response: KeptResponse, line: ReturnType<typeof requestLines>): void {
  const started = process.hrtime.bigint();
  const id = requestId(req.headers['x-request-id']);
  res.writeHead(200, { ...response.headers, 'x-request-id': id });
  res.end(response.body);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  observeRequest('GET', path, 200, seconds);
  line({ req_id: id, method: 'GET', path, status: 200, ms: seconds * 1000 });
}

/**
 * Keeps a successful plain GET of discovery or the JWKS, headers as sent but the request id. Only
 * one addressed to the issuer's own origin: the provider builds discovery's endpoint URLs from the
 * request's Host (and, behind a trusted proxy, X-Forwarded-Host/-Proto), so a document built for
 * another host must go to its requester alone, never be kept and served to everyone.
 */
function keep(ctx: Context, provider: Provider): void {
  if (ctx.status !== 200 || !STATIC_PATHS.has(ctx.path) || !plainGet(ctx.req)) return;
  if (`${ctx.protocol}://${ctx.host}` !== new URL(provider.issuer).origin) return;
  if (typeof ctx.body !== 'object' || ctx.body === null || Buffer.isBuffer(ctx.body)) return;
  const body = Buffer.from(JSON.stringify(ctx.body));
  const headers: OutgoingHttpHeaders = { ...ctx.response.headers, 'content-length': body.length };
  delete headers['x-request-id'];
  let responses = kept.get(provider);
  if (!responses) { responses = new Map(); kept.set(provider, responses); }
  responses.set(ctx.path, { headers, body });
}

/**
 * What src/app.ts does around every request (request id and log line, metrics, security headers),
 * for the requests that come the direct way only. One function rather than the app's three
 * middleware: every async frame on this path is paid again by each error the provider constructs
 * (it builds a few per request, stack trace included, whether or not it throws them).
 */
export function directMiddleware(log: Logger): (ctx: Context, next: Next) => Promise<void> {
  const line = requestLines(log);
  async function around(ctx: Context, next: Next, provider: Provider): Promise<void> {
    const started = process.hrtime.bigint();
    const id = requestId(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    setSecurityHeaders(ctx, provider.issuer.startsWith('https:'));
    try {
      await next();
      finishSecurityHeaders(ctx);
      keep(ctx, provider);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      observeContext(ctx, seconds);
      // the path only: query strings carry codes, tokens and state
      line({ req_id: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: seconds * 1000 });
    }
  }
  return (ctx, next) => {
    const provider = (ctx.req as MarkedRequest)[DIRECT];
    return provider ? around(ctx, next, provider) : next();
  };
}
