// How an operator command reaches the database: Postgres directly; the embedded database directly
// when no server holds it, or through the running server's control socket when one does.
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.ts';
import { openDatabase } from '../storage/database.ts';
import { migrateLatest } from '../storage/migrate.ts';
import { openConfiguredRedis } from '../storage/redis.ts';
import { controlSocketPath, lockHolder, tryLock } from '../storage/lock.ts';
import pino from 'pino';
import { createRoot, type Root } from '../root.ts';
import { callControl } from '../ops/control.ts';
import { runOperation } from '../ops/operations.ts';
import { CliError } from './errors.ts';

const WAIT_FOR_SERVER_MS = 15_000;
const POLL_MS = 100;

export { CliError } from './errors.ts';

/**
 * A command reports through its exit code and one sentence on stderr; the services' log lines
 * (the server's) would only mix into its output.
 */
const quiet = () => pino({ level: 'silent' });

/** Opens the stores, builds the root (the same function the server uses) once, runs `fn`, closes. */
async function direct<T>(config: Config, fn: (root: Root) => Promise<T>): Promise<T> {
  const db = openDatabase(config);
  // some operations end sessions and grants, which live in Redis when it is configured
  // the same Redis, topology and key prefix as the server's (a Cluster node alone answers MOVED)
  const redis = openConfiguredRedis(config);
  redis?.on('error', () => {});
  try {
    await migrateLatest(db.knex, { directUrl: config.databaseDirectUrl });
    const root = createRoot({ config, db, redis, log: quiet() });
    try { return await fn(root); } finally { await root.mailer.settled(); }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01') {
      throw new CliError(`Cannot reach the database at DATABASE_URL (${code}): check that PostgreSQL is running and the URL is right.`);
    }
    throw e;
  } finally {
    redis?.disconnect();
    await db.close();
  }
}

export async function runOp(config: Config, name: string, args: Record<string, unknown>): Promise<unknown> {
  if (config.databaseUrl) return direct(config, (c) => runOperation(c, name, args));
  const until = Date.now() + WAIT_FOR_SERVER_MS;
  for (;;) {
    const socket = controlSocketPath(config.dataDir);
    if (lockHolder(config.dataDir) !== undefined) {
      if (existsSync(socket)) {
        try { return await callControl(socket, name, args); } catch (e) {
          if (!['ECONNREFUSED', 'ENOENT'].includes((e as { code?: string }).code ?? '')) throw e;
        }
      }
    } else {
      const lock = tryLock(config.dataDir);
      if (lock) {
        try { return await direct(config, (c) => runOperation(c, name, args)); } finally { lock.release(); }
      }
    }
    // a server is starting (lock held, socket not yet open), or another command holds the lock
    if (Date.now() > until) throw new CliError(`The data folder ${config.dataDir} is busy: a Gatehouse server is starting or not answering on its control socket. Try again in a moment.`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
