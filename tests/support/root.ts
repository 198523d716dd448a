// The composition root as the server builds it (src/root.ts), over stores a suite opened, with a
// silent log: for integration suites that exercise the services wired exactly as in production.
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config/index.ts';
import type { Database } from '../../src/storage/database.ts';
import { createRoot, type Root } from '../../src/root.ts';
import { migratedPostgres, tempDir, testConfig } from './stores.ts';

export type { Root } from '../../src/root.ts';

export function testRoot(config: Config, db: Database, redis?: Redis): Root {
  return createRoot({ config, db, redis, log: pino({ level: 'silent' }) });
}

/** A migrated throwaway Postgres database (url, db) with the root built over it; dispose() removes both. */
export async function postgresRoot(): Promise<Awaited<ReturnType<typeof migratedPostgres>> & { root: Root }> {
  const store = await migratedPostgres();
  const dir = tempDir();
  const root = testRoot(testConfig({ databaseUrl: store.url, dataDir: dir.path }), store.db);
  return { ...store, root, async dispose() { await store.dispose(); dir.remove(); } };
}
