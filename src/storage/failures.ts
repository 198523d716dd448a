// Which errors mean "a backing store is unavailable" (a 503 the client may retry) rather than a bug
// (a 500). One list, read by the error middleware, the provider's error hook and the metrics.
export type Backend = 'postgres' | 'redis';

/** What a client is told when a store is down: retry later, nothing was half-done. */
export const UNAVAILABLE_MESSAGE = 'A backing service is unavailable. Try again in a moment.';
/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

// ioredis: the offline queue is off once connected (src/storage/redis.ts), so a down Redis rejects at once.
const REDIS_MESSAGES = /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|All sentinels are unreachable|Failed to refresh slots cache|ClusterAllFailed|^LOADING|^READONLY|^MASTERDOWN|^CLUSTERDOWN|^TRYAGAIN/i;
// pg and knex: refused, terminated or unreachable connections, and a pool that waited too long.
const POSTGRES_MESSAGES = /Connection terminated|not currently accepting connections|not queryable|Timeout acquiring a connection|the database system is (starting up|shutting down|in recovery)|terminating connection/i;
// SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P (operator intervention).
const POSTGRES_CODES = /^(08|53|57P)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const REDIS_PORT = 6379;

/** The store an error came from when it means that store is unavailable; undefined for anything else. */
export function backingServiceFailure(err: unknown): Backend | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { name?: string; message?: string; code?: unknown; port?: number; errors?: unknown[] };
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError' || REDIS_MESSAGES.test(message)) return 'redis';
  if (e.name === 'KnexTimeoutError' || POSTGRES_MESSAGES.test(message) || (code.length === 5 && POSTGRES_CODES.test(code))) return 'postgres';
  if (NETWORK_CODES.has(code)) return e.port === REDIS_PORT ? 'redis' : 'postgres';
  // AggregateError from a connection attempt to several addresses (localhost → ::1 and 127.0.0.1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) { const b = backingServiceFailure(inner); if (b) return b; }
  return undefined;
}
