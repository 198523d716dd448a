// Opens the durable store: PostgreSQL from DATABASE_URL, or embedded PostgreSQL (PGlite) in the
// data folder. PGlite is single-connection, so knex-pglite pins the pool to one connection; code
// inside a transaction must use the transaction, never the outer handle.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Config } from '../config/index.ts';

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

/** Pool sized for one node on 2 cores: enough for argon2-bound sign-ins, small for N nodes × pool. */
const PG_POOL_MAX = 10;
/**
 * Fail fast when Postgres is down or refusing connections (a 503, not a hang): how long a new
 * connection may take, and how long a request may wait for a pooled one.
 */
const PG_CONNECT_TIMEOUT_MS = 2000;
const PG_ACQUIRE_TIMEOUT_MS = 3000;

/**
 * knex-pglite names a delete's command "DEL", so knex hands back the raw result instead of the
 * row count it returns for Postgres. Report the count, as the pg dialect does.
 */
class EmbeddedClient extends (ClientPgLite as unknown as new (config: Knex.Config) => { processResponse(obj: any, runner: unknown): unknown }) {
  processResponse(obj: { method?: string; returning?: unknown; response: { affectedRows?: number } }, runner: unknown): unknown {
    if (obj.method === 'del' && !obj.returning) return obj.response.affectedRows ?? 0;
    return super.processResponse(obj, runner);
  }
}

export function embeddedDataPath(dataDir: string): string {
  return join(dataDir, 'pgdata');
}

export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Database {
  if (config.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: { connectionString: config.databaseUrl, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, keepAlive: true },
      pool: { min: 0, max: PG_POOL_MAX },
      acquireConnectionTimeout: PG_ACQUIRE_TIMEOUT_MS,
    });
    return { knex, kind: 'postgres', close: () => knex.destroy() };
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const knex = knexFactory({
    client: EmbeddedClient as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: { filename: embeddedDataPath(config.dataDir) } as Knex.StaticConnectionConfig,
  } as Knex.Config);
  return { knex, kind: 'embedded', close: () => knex.destroy() };
}
