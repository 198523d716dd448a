// Prometheus metrics (prom-client): requests by route and status, latency, tokens issued by grant,
// sign-in failures and lockouts, backing-store failures, SQL queries. GET /metrics serves them in
// the text format, behind GATEHOUSE_METRICS_TOKEN when it is set.
//
// The metrics are process-wide, like the process they describe: one registry per process, so the
// few places that count (sign-in, the provider's events) call a function here instead of having a
// registry threaded through every dependency list.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import client from 'prom-client';
import { backingServiceFailure, rotationPending } from '../storage/failures.ts';

/** Seconds. Token, refresh and introspection aim at single-digit milliseconds; argon2 sign-ins at ~50 ms. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const registry = new client.Registry();
/** The process's registry, for a domain that keeps its metrics in its own file (src/webhooks/webhook.metrics.ts). */
export const metricsRegistry = registry;
client.collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });

const requests = new client.Counter({
  name: 'gatehouse_http_requests_total', help: 'HTTP requests by method, route and status.',
  labelNames: ['method', 'route', 'status'] as const, registers: [registry],
});
const latency = new client.Histogram({
  name: 'gatehouse_http_request_duration_seconds', help: 'HTTP request latency by method and route.',
  labelNames: ['method', 'route'] as const, buckets: LATENCY_BUCKETS, registers: [registry],
});
const tokens = new client.Counter({
  name: 'gatehouse_tokens_issued_total', help: 'Successful token endpoint responses by grant type.',
  labelNames: ['grant_type'] as const, registers: [registry],
});
const signInFailures = new client.Counter({
  name: 'gatehouse_sign_in_failures_total', help: 'Password sign-ins refused for a wrong email or password.', registers: [registry],
});
const lockouts = new client.Counter({
  name: 'gatehouse_sign_in_lockouts_total', help: 'Sign-ins refused because a rate limit was exhausted (429).', registers: [registry],
});
const backendErrors = new client.Counter({
  name: 'gatehouse_backend_errors_total', help: 'Requests failed with 503 because Postgres or Redis was unavailable.',
  labelNames: ['backend'] as const, registers: [registry],
});
const rotationsPending = new client.Counter({
  name: 'gatehouse_refresh_rotations_pending_total',
  help: 'Refresh requests answered 503 because another request was still rotating the same refresh token (no store failed; the client retries after Retry-After).',
  registers: [registry],
});
const storeErrors = new client.Counter({
  name: 'gatehouse_store_errors_total', help: 'Store failures seen by this process (queries failed on an unavailable Postgres, Redis connection errors), whether or not a request failed with them.',
  labelNames: ['backend'] as const, registers: [registry],
});
const dbQueries = new client.Counter({
  name: 'gatehouse_db_queries_total', help: 'SQL queries sent to the durable store (Postgres or PGlite).', registers: [registry],
});

const upstreamCalls = new client.Histogram({
  name: 'gatehouse_upstream_call_duration_seconds',
  help: 'Calls to upstream identity providers (discovery, token, userinfo, GitHub user/emails) by provider, step and outcome (ok, http_<status>, unreachable: refused or timed out).',
  labelNames: ['provider', 'step', 'outcome'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
});

/** One call to an upstream provider (src/federation/upstream-client.ts). */
export function observeUpstreamCall(provider: string, step: string, outcome: string, seconds: number): void {
  upstreamCalls.labels(provider, step, outcome).observe(seconds);
}

export function countSignInFailure(): void { signInFailures.inc(); }
export function countLockout(): void { lockouts.inc(); }
/**
 * A request answered 503 because of `err`: a store outage counts as a backend error; a refresh
 * rotation still in flight in another request is no store's failure and has its own counter.
 */
export function countUnavailable(err: unknown): void {
  if (rotationPending(err)) { rotationsPending.inc(); return; }
  const backend = backingServiceFailure(err);
  if (backend) backendErrors.inc({ backend });
}

/** device_code's grant type is a URN; the label keeps its last part. */
export function countTokenIssued(grantType: string): void {
  tokens.inc({ grant_type: grantType.startsWith('urn:') ? grantType.slice(grantType.lastIndexOf(':') + 1) : grantType });
}

/**
 * The durable store's watchers (src/storage/instrument.ts installs them on knex): every query sent
 * (the benchmark reads it: refresh and introspection should send none), and every query or
 * connection that failed because Postgres was unavailable.
 */
export const databaseCounters = {
  query: (): void => { dbQueries.inc(); },
  unavailable: (): void => { storeErrors.inc({ backend: 'postgres' }); },
};

/** Counts Redis connection errors as store failures. */
export function countRedisErrors(redis: { on(event: 'error', fn: (err: Error) => void): unknown } | undefined): void {
  redis?.on('error', () => storeErrors.inc({ backend: 'redis' }));
}

// Paths no router of ours matches, labelled as they are: the provider's routes (handed over by
// src/oidc/events.ts from its route table, src/oidc/internals.ts) and a few fixed ones.
const FIXED_PATHS = new Set(['/favicon.ico']);
const PATH_PATTERNS = new Map<string, RegExp>([['/assets/*', /^\/assets\//]]);

/** The provider's fixed paths, and patterns (by label) for its paths that carry an id. */
export function labelProviderPaths(paths: Iterable<string>, patterns: Iterable<[label: string, pattern: RegExp]>): void {
  for (const path of paths) FIXED_PATHS.add(path);
  for (const [label, pattern] of patterns) PATH_PATTERNS.set(label, pattern);
}

/**
 * A route label that never contains a raw id, code or token: the pattern of our routers' matched
 * route (e.g. /interaction/:uid/login), the provider's fixed paths, or "other".
 */
export function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (FIXED_PATHS.has(ctx.path)) return ctx.path;
  for (const [label, pattern] of PATH_PATTERNS) if (pattern.test(ctx.path)) return label;
  return 'other';
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

// Label sets are few (methods × route patterns × statuses): their children are looked up once,
// sparing prom-client's label validation and hashing on every request.
const requestChildren = new Map<string, client.Counter.Internal>();
const latencyChildren = new Map<string, client.Histogram.Internal<string>>();

export function observeRequest(method: string, route: string, status: number, seconds: number): void {
  const routeKey = `${method} ${route}`;
  const key = `${routeKey} ${status}`;
  let counter = requestChildren.get(key);
  if (!counter) { counter = requests.labels(method, route, String(status)); requestChildren.set(key, counter); }
  let histogram = latencyChildren.get(routeKey);
  if (!histogram) { histogram = latency.labels(method, route); latencyChildren.set(routeKey, histogram); }
  counter.inc();
  histogram.observe(seconds);
}

/** Counts and times one request, by its method, route label and status. */
export function observeContext(ctx: Context, seconds: number): void {
  // the provider writes to ctx.res itself when mounted in our app (ctx.respond = false)
  const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
  observeRequest(KNOWN_METHODS.has(ctx.method) ? ctx.method : 'OTHER', routeLabel(ctx), status, seconds);
}

/** Outermost middleware: counts and times every request, the provider's included. */
export function requestMetrics() {
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      observeContext(ctx, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

function bearerMatches(header: string, token: string): boolean {
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** GET /metrics in Prometheus' text format; with a token configured, only for `Authorization: Bearer <token>`. */
export function metricsEndpoint(opts: { token?: string }) {
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== '/metrics') return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') { ctx.status = 405; ctx.set('Allow', 'GET, HEAD'); return; }
    ctx.set('Cache-Control', 'no-store');
    if (opts.token && !bearerMatches(ctx.get('authorization'), opts.token)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>.' };
      return;
    }
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}
