// Which errors mean "a backing store is unavailable" (a 503 the client may retry) rather than a bug
// (a 500). One list, read by the error middleware, the provider's error hook and the metrics.
export type Backend = 'postgres' | 'redis';

/** What a client is told when a store is down: retry later, nothing was half-done. */
export const UNAVAILABLE_MESSAGE = 'A backing service is unavailable. Try again in a moment.';
/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

// ioredis: the offline queue is off once connected (src/storage/redis.ts), so a down Redis rejects at
// once; a connection that stopped answering is dropped (socket timeout), and a command in flight on
// it is aborted. The Cluster client's own failures: no node reachable, slots unknown, redirected too
// often (a failover moving slots while we ask).
const REDIS_MESSAGES = /Stream isn't writeable|Connection is closed|Command timed out|Command aborted due to connection close|Socket timeout|max retries per request|All sentinels are unreachable|Failed to refresh slots cache|ClusterAllFailed|None of startup nodes is available|Cluster isn't ready|Too many Cluster redirections/i;
/**
 * Redis error replies that mean "this node cannot serve you right now" (loading, a replica, a
 * failover, a slot moving, out of memory or unable to persist, busy in a script), never a bug in
 * the command. Upper case, as Redis sends them: at the
 * start of the reply, or after the "-" with which a script's error quotes the reply it got.
 */
const REDIS_UNAVAILABLE_REPLIES = /(?:^|-)(?:LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|NOREPLICAS|BUSY|MISCONF|OOM|UNBLOCKED)\b/;

/**
 * A Redis reply that is not the reply to what was sent (a transaction whose replies have the wrong
 * number or kind, a value of the wrong type): nothing it says can be trusted, so the write or read
 * it answers counts as failed. Seen from ioredis during a Cluster failover.
 */
export class StoreReplyError extends Error {
  constructor(what: string) {
    super(`unexpected Redis reply to ${what}`);
    this.name = 'StoreReplyError';
  }
}

// pg and knex: refused, terminated or unreachable connections, and a pool that waited too long.
const POSTGRES_MESSAGES = /Connection terminated|not currently accepting connections|not queryable|Timeout acquiring a connection|the database system is (starting up|shutting down|in recovery)|terminating connection/i;
// SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P (operator intervention).
const POSTGRES_CODES = /^(08|53|57P)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const REDIS_PORT = 6379;

/**
 * A refresh token whose rotation another request still has in flight (RotationPendingError,
 * src/oidc/adapters/redemption.ts). Answered like an outage (503, Retry-After), but no store failed:
 * the metrics count it apart (src/observability/metrics.ts).
 */
export function rotationPending(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { name?: unknown }).name === 'RotationPendingError';
}

/** The store an error came from when it means that store is unavailable; undefined for anything else. */
export function backingServiceFailure(err: unknown): Backend | undefined {
  return classify(err, new Set());
}

/** `seen`: ioredis puts an aborted transaction's own error among its previousErrors (a cycle). */
function classify(err: unknown, seen: Set<object>): Backend | undefined {
  if (!err || typeof err !== 'object' || seen.has(err)) return undefined;
  seen.add(err);
  const e = err as { name?: string; message?: string; code?: unknown; port?: number; errors?: unknown[] };
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError' || e.name === 'StoreReplyError') return 'redis';
  // a refresh token's rotation still in flight (src/oidc/adapters/redemption.ts): its outcome is not known yet
  if (e.name === 'RotationPendingError') return (err as { backend?: Backend }).backend;
  // ioredis: an aborted transaction (EXECABORT) carries the replies that aborted it; a MOVED or a
  // READONLY there is an outage, a syntax error a bug. Without them, the abort itself is the outage.
  const previous = (err as { previousErrors?: unknown[] }).previousErrors;
  const others = Array.isArray(previous) ? previous.filter((p) => p !== err) : [];
  if (others.length) return others.map((p) => classify(p, seen)).find(Boolean);
  if (message.startsWith('EXECABORT')) return 'redis';
  if (REDIS_MESSAGES.test(message) || REDIS_UNAVAILABLE_REPLIES.test(message)) return 'redis';
  if (e.name === 'KnexTimeoutError' || POSTGRES_MESSAGES.test(message) || (code.length === 5 && POSTGRES_CODES.test(code))) return 'postgres';
  if (NETWORK_CODES.has(code)) return e.port === REDIS_PORT ? 'redis' : 'postgres';
  // AggregateError from a connection attempt to several addresses (localhost → ::1 and 127.0.0.1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) { const b = classify(inner, seen); if (b) return b; }
  return undefined;
}
