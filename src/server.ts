// Boot: open the stores, migrate, make sure keys and the first admin exist, apply the clients file,
// build the provider and the app, listen. Returns a handle whose close() shuts down gracefully.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { openDatabase } from './storage/database.ts';
import { migrateLatest } from './storage/migrate.ts';
import { openConfiguredRedis } from './storage/redis.ts';
import { controlSocketPath, waitForLock, type DataDirLock } from './storage/lock.ts';
import { createContainer } from './root.ts';
import { createOidc } from './oidc/index.ts';
import { accountsForOidc } from './accounts/account.oidc-port.ts';
import { workspacesForOidc } from './workspaces/workspace.oidc-port.ts';
import { createImpersonation, impersonationPolicy } from './admin/impersonation.ts';
import { createAudit } from './audit/audit.ts';
import { pruneExpired } from './oidc/adapters/sql-adapter.ts';
import { createApp } from './app.ts';
import { createViews } from './render/views.ts';
import { createMailer } from './mail/mailer.ts';
import { createLimiterFactory } from './security/rate-limit.ts';
import { startControlServer } from './ops/control.ts';
import { breachedListSize } from './accounts/breached.ts';
import { pruneAudit } from './audit/retention.ts';
import { runHousekeeping, type HousekeepingJob } from './storage/housekeeping.ts';
import type { NodeState } from './health/health.routes.ts';
import { listenForClientChanges } from './clients/client-changes.ts';
import { listenChannel } from './storage/pg-listen.ts';
import { ACCOUNT_CACHE_CHANNEL } from './accounts/account-cache.ts';
import { createRequestHandler } from './oidc/fast-path.ts';
import { closeWhenBodyUnread } from './http/unread-body.ts';
import { countStoreErrors } from './observability/metrics.ts';

/** A CLI command holds the embedded database for a moment; wait that long for it. */
const EMBEDDED_LOCK_WAIT_MS = 15_000;
const PRUNE_EVERY_MS = 5 * 60_000;
const AUDIT_PRUNE_EVERY_MS = 6 * 3600_000;
const SHUTDOWN_GRACE_MS = 10_000;
const SHUTDOWN_IDLE_POLL_MS = 50;
/**
 * An idle keep-alive connection is closed after this long. Node's default: long enough for a browser
 * to reuse the socket for a page's next request, short enough that idle sockets cannot pile up.
 * (A proxy that keeps upstream connections open must time them out sooner than this.)
 */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * How often Node looks for requests past their headers/request timeout. Its default (30 s) would
 * let a slow client overstay the configured bound by up to that much; a pass over the open
 * connections once a second costs nothing measurable.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface RunningServer { url: string; server: Server; close(): Promise<void> }

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  let lock: DataDirLock | undefined;
  if (!config.databaseUrl) {
    lock = await waitForLock(config.dataDir, EMBEDDED_LOCK_WAIT_MS);
    if (!lock) throw new Error(`Another Gatehouse process is using the data folder ${config.dataDir}. Stop it, or set GATEHOUSE_DATA_DIR to another folder.`);
  }
  const db = openDatabase(config);
  const redis = openConfiguredRedis(config);
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  countStoreErrors({ knex: db.knex, redis });
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    const applied = await migrateLatest(db.knex, { directUrl: config.databaseDirectUrl });
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
    cleanups.push(() => mailer.settled()); // mail queued after an answer goes out before the database closes
    const limiters = createLimiterFactory(redis, config.redisPrefix);
    const { adapters, host, facade, cookieKeys } = await createOidc({
      ...container,
      // the ports of src/oidc/ports.ts
      accounts: accountsForOidc(container.accounts, container.accountCache),
      workspaces: workspacesForOidc(container.workspaces),
      impersonation: (oidc) => createImpersonation({
        oidc, knex: container.knex, accounts: container.accounts, audit: createAudit(container.knex), policy: impersonationPolicy(config),
      }),
    }, views, log);
    cleanups.push(() => host.stop());
    if (config.databaseDirectUrl) {
      // LISTEN holds a session: on DATABASE_DIRECT_URL, past any pooler in transaction mode
      const listener = listenForClientChanges(config.databaseDirectUrl, container.clientChanges, log);
      cleanups.push(() => listener.stop());
      // a user's row, memberships or workspaces changed (the triggers send the user id): both caches
      const forgetUser = (id?: string) => { container.accountCache.invalidate(id); container.membershipCache.invalidate(id); };
      const accountListener = listenChannel(config.databaseDirectUrl, ACCOUNT_CACHE_CHANNEL, {
        onPayload: (id) => forgetUser(id), onGap: () => forgetUser(),
      }, log);
      cleanups.push(() => accountListener.stop());
    }
    const node: NodeState = { shuttingDown: false };
    const app = createApp({ container, host, oidc: facade, views, mailer, adapters, limiters, cookieKeys, log, node });

    // a client that sends its headers or body slowly gets 408 and loses the socket (slowloris)
    const server = createServer({
      headersTimeout: config.timeouts.headers * 1000,
      requestTimeout: config.timeouts.request * 1000,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    }, closeWhenBodyUnread(createRequestHandler(app, host, log))); // one answer per request: src/http/unread-body.ts
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.listen(config.port);
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
      // every node schedules the housekeeping; one node per period runs each job (advisory lock)
      const schedule = (job: HousekeepingJob, everyMs: number, work: (trx: typeof db.knex) => Promise<number>, done: string) => {
        const timer = setInterval(() => {
          runHousekeeping(db.knex, job, everyMs, work)
            .then((r) => { if (r.ran && r.result) log.info({ job, pruned: r.result }, done); })
            .catch((err) => log.warn({ job, err: (err as Error).message }, 'housekeeping failed'));
        }, everyMs);
        timer.unref();
        cleanups.push(() => clearInterval(timer));
      };
      schedule('auditRetention', AUDIT_PRUNE_EVERY_MS, (trx) => pruneAudit(trx, config.administration.auditRetentionDays), 'old audit events pruned');
      if (!redis) schedule('expiredRecords', PRUNE_EVERY_MS, (trx) => pruneExpired(trx), 'expired records pruned');
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ issuer: config.issuer, port, database: db.kind, redis: !!redis }, 'gatehouse listening');

    let closing: Promise<void> | undefined;
    return {
      url: `http://127.0.0.1:${port}`,
      server,
      close() {
        node.shuttingDown = true; // /readyz says so at once, while requests in flight finish
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
