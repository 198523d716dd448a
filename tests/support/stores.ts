// Real stores for the integration suites: a migrated throwaway Postgres database, a migrated
// embedded (PGlite) database in a temp folder, a Redis connection, and a config for the container.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { migrateLatest } from '../../src/storage/migrate.ts';
import { freshDatabase, requireReal } from './env.ts';

export interface OpenStore {
  db: Database;
  /** closes the connection and removes the database or folder */
  dispose(): Promise<void>;
}

export function tempDir(label = 'gh-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), label));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh database on the DATABASE_URL server, migrated. */
export async function migratedPostgres(): Promise<OpenStore & { url: string }> {
  const fresh = await freshDatabase();
  const dir = tempDir();
  const db = openDatabase({ databaseUrl: fresh.url, dataDir: dir.path });
  await migrateLatest(db.knex);
  return {
    db,
    url: fresh.url,
    async dispose() { await db.close(); await fresh.drop(); dir.remove(); },
  };
}

/** The embedded default: PGlite in a temp data folder, migrated. */
export async function migratedEmbedded(): Promise<OpenStore & { dataDir: string }> {
  const dir = tempDir();
  const db = openDatabase({ databaseUrl: undefined, dataDir: dir.path });
  await migrateLatest(db.knex);
  return { db, dataDir: dir.path, async dispose() { await db.close(); dir.remove(); } };
}

export function connectRedis(): Redis {
  const { redisUrl } = requireReal();
  return new Redis(redisUrl, { maxRetriesPerRequest: 1 });
}

export const testSecret = (): string => randomBytes(32).toString('base64url');

/** A config as loadConfig builds it, for a given database and data folder. */
export function testConfig(opts: { databaseUrl?: string; dataDir: string; env?: Record<string, string> }): Config {
  return loadConfig({
    NODE_ENV: 'test',
    GATEHOUSE_SECRET: testSecret(),
    GATEHOUSE_DATA_DIR: opts.dataDir,
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
}

/**
 * The algorithm, version and parameters of an argon2 PHC string, e.g.
 * `$argon2id$v=19$m=19456,p=1,t=2$salt$hash` → { id: 'argon2id', v: 19, m: 19456, t: 2, p: 1 }.
 * Parsed rather than matched: the argon2 package orders the parameters m,p,t, the reference m,t,p.
 */
export function argon2Params(hash: string): { id: string; v: number; m: number; t: number; p: number } {
  const [, id, version, params] = hash.split('$');
  const fields = Object.fromEntries([version!, ...params!.split(',')].map((kv) => {
    const [k, v] = kv.split('=');
    return [k, Number(v)];
  }));
  return { id: id!, v: fields.v, m: fields.m, t: fields.t, p: fields.p };
}

export const OWASP_ARGON2 = { id: 'argon2id', v: 19, m: 19456, t: 2, p: 1 } as const;
