// Runs the migrations. Several nodes may start at once against one Postgres: a session advisory
// lock lets one node at a time run knex's migrator, so the others wait, then find nothing left to do.
//
// Why not knex's lock table alone: knex creates that table and its single row on first use, and two
// nodes doing so at the same moment can each insert a row; with two rows knex's lock can never be
// taken again ("Migration table is already locked" forever). Under the advisory lock only one node
// is ever inside knex's migrator, and a node that dies releases the lock with its connection.
import type { Knex } from 'knex';
import { migrationSource, RENAMED_MIGRATIONS } from '../../migrations/index.ts';
import { openDirect } from './database.ts';

const LOCK_RETRY_MS = 250;
const LOCK_WAIT_MAX_MS = 60_000;
/** pg_advisory_lock key for migrations ("ghmg"); the signing keys use another. */
const MIGRATION_LOCK_ID = 0x6768_6d67;

interface RawConnection { query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> }
type Pooled = Knex['client'] & { acquireConnection(): Promise<RawConnection>; releaseConnection(c: RawConnection): Promise<void> };

const isPostgres = (knex: Knex) => (knex.client.config as { client?: unknown }).client === 'pg';
const wait = () => new Promise((r) => setTimeout(r, LOCK_RETRY_MS));

/**
 * A database migrated before a migration was renamed recorded its old name: record the new one
 * (migrations/index.ts RENAMED_MIGRATIONS), in one transaction, before knex compares what was
 * applied with the list. Runs where knex's migrator does (under the advisory lock on Postgres).
 */
async function renameRecorded(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('knex_migrations'))) return;
  await knex.transaction(async (trx) => {
    for (const [from, to] of Object.entries(RENAMED_MIGRATIONS)) {
      await trx('knex_migrations').where({ name: from }).update({ name: to });
    }
  });
}

async function latest(knex: Knex, started: number): Promise<string[]> {
  for (;;) {
    try {
      await renameRecorded(knex);
      const [, applied] = await knex.migrate.latest({ migrationSource });
      return applied as string[];
    } catch (err) {
      // the embedded database (one process) and a database migrated by an older release
      const locked = (err as Error).name === 'MigrationLocked'
        || /already locked|duplicate key|already exists/i.test((err as Error).message);
      if (!locked || Date.now() - started > LOCK_WAIT_MAX_MS) throw err;
      await wait();
    }
  }
}

/**
 * Under the advisory lock no other node is inside knex's migrator, so knex's own lock can only be
 * left over: the two rows of the race described above, or a lock a node took outside a transaction
 * and never freed. Back to one free row.
 */
async function repairKnexLock(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('knex_migrations_lock'))) return;
  const rows = await knex('knex_migrations_lock').select('index', 'is_locked').orderBy('index');
  if (rows.length > 1) await knex('knex_migrations_lock').where('index', '>', rows[0].index).del();
  if (rows.length > 1 || rows[0]?.is_locked) await knex('knex_migrations_lock').update({ is_locked: 0 });
}

/**
 * `directUrl` (DATABASE_DIRECT_URL, when it differs from the pool's URL): migrate over a direct
 * connection of its own, so the session lock below holds on one server connection even when the
 * pool goes through PgBouncer in transaction mode.
 */
export async function migrateLatest(knex: Knex, opts: { directUrl?: string } = {}): Promise<string[]> {
  const pooledUrl = (knex.client.config as { connection?: { connectionString?: string } }).connection?.connectionString;
  if (isPostgres(knex) && opts.directUrl && opts.directUrl !== pooledUrl) {
    const direct = openDirect(opts.directUrl);
    try { return await migrateLocked(direct.knex); } finally { await direct.close(); }
  }
  return migrateLocked(knex);
}

async function migrateLocked(knex: Knex): Promise<string[]> {
  const started = Date.now();
  if (!isPostgres(knex)) return latest(knex, started);
  const client = knex.client as Pooled;
  const conn = await client.acquireConnection();
  try {
    for (;;) {
      const { rows } = await conn.query('select pg_try_advisory_lock($1) as locked', [MIGRATION_LOCK_ID]);
      if (rows[0]?.locked) break;
      if (Date.now() - started > LOCK_WAIT_MAX_MS) {
        throw new Error(`Another node has been running the migrations for over ${LOCK_WAIT_MAX_MS / 1000} s (advisory lock ${MIGRATION_LOCK_ID} is held); check the other nodes' logs.`);
      }
      await wait();
    }
    try {
      await repairKnexLock(knex);
      return await latest(knex, started);
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    }
  } finally {
    await client.releaseConnection(conn);
  }
}
