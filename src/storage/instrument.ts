// What the durable store tells whoever watches it: each query sent, each store failure, and a probe
// for the health checks. The hooks on knex live here, beside the store; observability/ supplies
// the counters (storage/ imports nothing above the ground floor, nor observability/).
import type { Knex } from 'knex';
import { backingServiceFailure } from './failures.ts';

export interface DatabaseWatchers {
  /** every SQL query sent (the benchmark reads the count: refresh and introspection should send none) */
  query?: () => void;
  /** a query failed because Postgres was unavailable (not, say, a unique violation), or a connection could not be opened */
  unavailable?: () => void;
}

export function watchDatabase(knex: Knex, watchers: DatabaseWatchers): void {
  if (watchers.query) knex.on('query', watchers.query);
  const unavailable = watchers.unavailable;
  if (!unavailable) return;
  knex.on('query-error', (err: unknown) => { if (backingServiceFailure(err) === 'postgres') unavailable(); });
  // a connection that could not be opened fails before any query runs
  const pool = (knex.client as { pool?: { on?(event: 'createFail', fn: () => void): unknown } }).pool;
  pool?.on?.('createFail', unavailable);
}

/** The health checks' question to the durable store: does it answer a trivial query? */
export function databaseProbe(knex: Knex): () => Promise<unknown> {
  return () => knex.raw('select 1');
}
