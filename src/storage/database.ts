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

/**
 * The default pool (GATEHOUSE_DB_POOL_MAX) is sized for one node on 2 cores: enough for argon2-bound
 * sign-ins. Many nodes on one Postgres set it lower, or put PgBouncer in front (docs/configuration.md).
 */
export const PG_POOL_MAX_DEFAULT = 10;
/**
 * The migrator's own pool on DATABASE_DIRECT_URL: one connection holds the advisory lock, one runs
 * knex's migrator. Closed when the migrations are done.
 */
const MIGRATION_POOL_MAX = 2;
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

function openPostgres(url: string, poolMax: number): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, keepAlive: true },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: PG_ACQUIRE_TIMEOUT_MS,
  });
}

export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'dbPoolMax'>>): Database {
  if (config.databaseUrl) {
    const knex = openPostgres(config.databaseUrl, config.dbPoolMax ?? PG_POOL_MAX_DEFAULT);
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

/**
 * A short-lived handle on DATABASE_DIRECT_URL for the migrations: their session advisory lock
 * must stay on one server connection, which a pooler in transaction mode does not promise.
 */
export function openDirect(directUrl: string): Database {
  const knex = openPostgres(directUrl, MIGRATION_POOL_MAX);
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}
