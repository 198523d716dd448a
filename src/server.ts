// Boot: open the stores, migrate, make sure keys and the first admin exist, apply the clients file,
// build the provider and the app, listen. Returns a handle whose close() shuts down gracefully.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { openDatabase } from './storage/database.ts';
import { migrateLatest } from './storage/migrate.ts';
import { createRedis } from './storage/redis.ts';
import { controlSocketPath, waitForLock, type DataDirLock } from './storage/lock.ts';
import { createContainer } from './container.ts';
import { createOidc } from './oidc/index.ts';
import { pruneExpired } from './oidc/adapters/sql.ts';
import { createApp } from './app.ts';
import { createViews } from './views/render.ts';
import { createMailer } from './mail/mailer.ts';
import { createLimiterFactory } from './security/rate-limit.ts';
import { startControlServer } from './ops/control.ts';
import { breachedListSize } from './accounts/breached.ts';
import { pruneAudit } from './audit/retention.ts';
import { listenForClientChanges } from './clients/client-changes.ts';
import { listenChannel } from './storage/pg-listen.ts';
import { ACCOUNT_CACHE_CHANNEL } from './accounts/account-cache.ts';
import { createRequestHandler } from './http/fast-path.ts';
import { countStoreErrors } from './observability/metrics.ts';

/** A CLI command holds the embedded database for a moment; wait that long for it. */
const EMBEDDED_LOCK_WAIT_MS = 15_000;
const PRUNE_EVERY_MS = 5 * 60_000;
const AUDIT_PRUNE_EVERY_MS = 6 * 3600_000;
const SHUTDOWN_GRACE_MS = 10_000;
const SHUTDOWN_IDLE_POLL_MS = 50;

export interface RunningServer { url: string; server: Server; close(): Promise<void> }

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  let lock: DataDirLock | undefined;
  if (!config.databaseUrl) {
    lock = await waitForLock(config.dataDir, EMBEDDED_LOCK_WAIT_MS);
    if (!lock) throw new Error(`Another Gatehouse process is using the data folder ${config.dataDir}. Stop it, or set GATEHOUSE_DATA_DIR to another folder.`);
  }
  const db = openDatabase(config);
  const redis = config.redisUrl ? createRedis(config.redisUrl, config.redisTopology) : undefined;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  countStoreErrors({ knex: db.knex, redis });
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    const applied = await migrateLatest(db.knex);
    if (applied.length) log.info({ applied }, 'migrations applied');
    const container = createContainer(config, db, redis);
    await container.keys.ensureKeys();
    await container.clients.ensureSystemClient(config.issuer);
    breachedListSize(); // load the common-password list now, not during someone's sign-up
    if (config.admin) {
      await container.accounts.ensureAdmin(config.admin.email, config.admin.password).catch((e) => {
        throw new Error(`GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD: ${(e as Error).message}`);
      });
    }
    if (config.clientsFile) {
      const ids = await container.clients.applyFile(config.clientsFile);
      log.info({ clients: ids }, 'clients file applied');
    }

    const views = createViews({ cache: config.env === 'production' });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir, views, log });
    const limiters = createLimiterFactory(redis, config.redisPrefix);
    const { adapters, host, cookieKeys } = await createOidc(container, views, log);
    cleanups.push(() => host.stop());
    if (config.databaseUrl) {
      const listener = listenForClientChanges(config.databaseUrl, container.clientChanges, log);
      cleanups.push(() => listener.stop());
      // a user's row, memberships or workspaces changed (the triggers send the user id): both caches
      const forgetUser = (id?: string) => { container.accountCache.invalidate(id); container.membershipCache.invalidate(id); };
      const accountListener = listenChannel(config.databaseUrl, ACCOUNT_CACHE_CHANNEL, {
        onPayload: (id) => forgetUser(id), onGap: () => forgetUser(),
      }, log);
      cleanups.push(() => accountListener.stop());
    }
    const app = createApp({ container, host, views, mailer, adapters, limiters, cookieKeys, log });

    const server = createServer(createRequestHandler(app, host, log)).listen(config.port);
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // requests in flight finish; a keep-alive connection is closed as soon as it goes idle
      const idle = setInterval(() => server.closeIdleConnections(), SHUTDOWN_IDLE_POLL_MS);
      idle.unref();
      server.closeIdleConnections();
      setTimeout(() => { server.closeAllConnections(); resolve(); }, SHUTDOWN_GRACE_MS).unref();
    }));

    if (db.kind === 'embedded') {
      const control = await startControlServer(controlSocketPath(config.dataDir), container, log,
        async (op) => { if (op.startsWith('keys.')) await host.refresh(); });
      cleanups.push(() => new Promise((r) => control.close(r)));
    }
    {
      const prune = () => pruneAudit(db.knex, config.administration.auditRetentionDays)
        .then((n) => { if (n) log.info({ pruned: n }, 'old audit events pruned'); })
        .catch((err) => log.warn({ err: (err as Error).message }, 'audit pruning failed'));
      const auditTimer = setInterval(prune, AUDIT_PRUNE_EVERY_MS);
      auditTimer.unref();
      cleanups.push(() => clearInterval(auditTimer));
    }
    if (!redis) {
      const timer = setInterval(() => { pruneExpired(db.knex).catch((err) => log.warn({ err }, 'prune failed')); }, PRUNE_EVERY_MS);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ issuer: config.issuer, port, database: db.kind, redis: !!redis }, 'gatehouse listening');

    let closing: Promise<void> | undefined;
    return {
      url: `http://127.0.0.1:${port}`,
      server,
      close() {
        closing ??= (async () => {
          for (const fn of cleanups.reverse()) await fn();
          await redis?.quit().catch(() => redis.disconnect());
          await db.close();
          lock?.release();
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
    redis?.disconnect();
    await db.close().catch(() => {});
    lock?.release();
    throw err;
  }
}
