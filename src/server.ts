// Boot, in the order startServer() reads: hold the data folder → open the stores → migrate → build
// the root (every service, once: src/root.ts) → make sure keys, the system client, the first admin
// and the clients file are in place → start the provider → listen for store changes → build the
// app → listen → background jobs. Each step registers how to undo itself; close() undoes them in
// reverse order, then closes the stores. Returns a handle whose close() shuts down gracefully.
import { once } from 'node:events';
import { relative, isAbsolute } from 'node:path';
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { openDatabase, type Database } from './storage/database.ts';
import { migrateLatest } from './storage/migrate.ts';
import { openConfiguredRedis } from './storage/redis.ts';
import { controlSocketPath, waitForLock, type DataDirLock } from './storage/lock.ts';
import { runHousekeeping, type HousekeepingJob } from './storage/housekeeping.ts';
import { listenChannel } from './storage/pg-listen.ts';
import { watchDatabase } from './storage/instrument.ts';
import { createRoot, type Root } from './root.ts';
import { createApp } from './app.ts';
import type { ProviderHost } from './oidc/host.ts';
import { pruneExpired } from './oidc/adapters/oidc-record.repo.ts';
import { createRequestHandler } from './oidc/fast-path.ts';
import { startControlServer } from './ops/control.ts';
import { breachedListSize } from './accounts/breached.ts';
import { ACCOUNT_CACHE_CHANNEL } from './accounts/account-cache.ts';
import { pruneAudit } from './audit/retention.ts';
import { startWebhookNode } from './webhooks/node.ts';
import { WEBHOOK_ENDPOINTS_CHANNEL } from './webhooks/outbox.ts';
import type { NodeState } from './health/health.routes.ts';
import { listenForClientChanges } from './clients/client-changes.ts';
import { listenForResourceChanges } from './resources/resource-registry.ts';
import { closeWhenBodyUnread } from './http/unread-body.ts';
import { countRedisErrors, databaseCounters } from './observability/metrics.ts';
import { SETUP_TOKEN_TTL_SECONDS, type AdminStatus } from './setup/setup.service.ts';

/** A CLI command holds the embedded database for a moment; wait that long for it. */
const EMBEDDED_LOCK_WAIT_MS = 15_000;
const PRUNE_EVERY_MS = 5 * 60_000;
const AUDIT_PRUNE_EVERY_MS = 6 * 3600_000;
const WEBHOOK_PRUNE_EVERY_MS = 3600_000;
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

/**
 * A reason not to start that the operator fixes with a setting (a busy port, a refused admin
 * password, a data folder in use): src/main.ts prints its one sentence, never a stack trace.
 */
export class StartProblem extends Error {
  override name = 'StartProblem';
}

/** What each boot step leaves to undo at shutdown; run last-in, first-out. */
type Cleanups = Array<() => Promise<unknown> | unknown>;

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const lock = await holdDataDir(config);
  const { db, redis } = openStores(config, log);
  const cleanups: Cleanups = [];
  try {
    await migrate(db, config, log);
    const root = createRoot({ config, db, redis, log });
    cleanups.push(() => root.mailer.settled()); // mail queued after an answer goes out before the database closes
    const admin = await ensureBaseline(root);
    const host = await root.startProvider();
    cleanups.push(() => host.stop());
    listenForStoreChanges(root, cleanups);
    const node: NodeState = { shuttingDown: false };
    const app = createApp(root, { host, node });
    const server = await listen(config, app, host, log, cleanups);
    await startBackgroundJobs(root, host, cleanups);

    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ issuer: config.issuer, port, database: db.kind, redis: !!redis, admin: admin.kind }, bootLine(config, port, admin));

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

/** The embedded database is one process's: wait a moment for a CLI command that holds it. */
async function holdDataDir(config: Config): Promise<DataDirLock | undefined> {
  if (config.databaseUrl) return undefined;
  const lock = await waitForLock(config.dataDir, EMBEDDED_LOCK_WAIT_MS);
  if (!lock) throw new StartProblem(`Another Gatehouse process is using the data folder ${config.dataDir}. Stop it, or set GATEHOUSE_DATA_DIR to another folder.`);
  return lock;
}

/** The database and, when configured, Redis; their queries and failures counted for /metrics. */
function openStores(config: Config, log: Logger): { db: Database; redis: ReturnType<typeof openConfiguredRedis> } {
  const db = openDatabase(config);
  const redis = openConfiguredRedis(config);
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  watchDatabase(db.knex, { query: databaseCounters.query, unavailable: databaseCounters.unavailable });
  countRedisErrors(redis);
  return { db, redis };
}

async function migrate(db: Database, config: Config, log: Logger): Promise<void> {
  const applied = await migrateLatest(db.knex, { directUrl: config.databaseDirectUrl });
  if (applied.length) log.info({ applied }, 'migrations applied');
}

/**
 * What the provider and the first sign-in need before the first request: keys, clients, an admin
 * (GATEHOUSE_ADMIN_EMAIL, or one that exists, or a one-time setup link: src/setup/setup.service.ts).
 */
async function ensureBaseline(root: Root): Promise<AdminStatus> {
  const { config, log } = root;
  await root.keys.ensureKeys();
  await root.clients.ensureSystemClient(config.issuer);
  breachedListSize(); // load the common-password list now, not during someone's sign-up
  const admin = await root.setup.atBoot(config.admin).catch((e: Error) => { throw new StartProblem(e.message); });
  if (config.clientsFile) {
    const ids = await root.clients.applyFile(config.clientsFile);
    log.info({ clients: ids }, 'clients file applied');
  }
  if (config.providersFile) {
    const applied = await root.providers.applyFile(config.providersFile);
    log.info(applied, 'providers file applied');
  }
  return admin;
}

/** A store's address without its credentials: host, port and database (or key group). */
function addressOf(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${path}`;
  } catch {
    return 'the configured address';
  }
}

/** The data folder as the operator wrote it when it is below the working folder (./.gatehouse). */
function folderOf(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : dir;
}

/**
 * The one line a person reads at boot: where Gatehouse answers, which stores it uses, and whether
 * an administrator exists (or how to create the first). No password, secret or credential in it.
 */
export function bootLine(config: Config, port: number, admin: AdminStatus): string {
  const { redisTopology: topology } = config;
  const database = config.databaseUrl ? `PostgreSQL at ${addressOf(config.databaseUrl)}` : `embedded PGlite in ${folderOf(config.dataDir)}`;
  const redis = !config.redisUrl ? 'no Redis'
    : topology.sentinels ? `Redis through Sentinels ${topology.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')}`
      : `Redis${topology.cluster ? ' Cluster' : ''} at ${addressOf(config.redisUrl)}`;
  const who = admin.kind === 'none'
    ? `none yet: open ${config.issuer}${admin.setupPath} to create the first (the link works once, for ${SETUP_TOKEN_TTL_SECONDS / 60} minutes; a restart prints a new one)`
    : admin.kind === 'created' ? `${admin.email} was just created from GATEHOUSE_ADMIN_EMAIL`
      : admin.kind === 'promoted' ? `${admin.email} was just made an administrator from GATEHOUSE_ADMIN_EMAIL`
        : `${admin.email} exists`;
  return `Gatehouse listening on http://localhost:${port} (issuer ${config.issuer}) — ${database}, ${redis} — admin: ${who}`;
}

/** Other nodes' changes to clients, accounts and memberships, so this node's caches forget them. */
function listenForStoreChanges(root: Root, cleanups: Cleanups): void {
  const { config, log } = root;
  // LISTEN holds a session: on DATABASE_DIRECT_URL, past any pooler in transaction mode
  if (!config.databaseDirectUrl) return;
  const listener = listenForClientChanges(config.databaseDirectUrl, root.clientChanges, log);
  cleanups.push(() => listener.stop());
  const resourceListener = listenForResourceChanges(config.databaseDirectUrl, root.resourceRegistry, log);
  cleanups.push(() => resourceListener.stop());
  // a user's row, memberships or workspaces changed (the triggers send the user id): both caches
  const forgetUser = (id?: string) => { root.accountCache.invalidate(id); root.membershipCache.invalidate(id); };
  const accountListener = listenChannel(config.databaseDirectUrl, ACCOUNT_CACHE_CHANNEL, {
    onPayload: (id) => forgetUser(id), onGap: () => forgetUser(),
  }, log);
  cleanups.push(() => accountListener.stop());
}

async function listen(config: Config, app: Koa, host: ProviderHost, log: Logger, cleanups: Cleanups): Promise<Server> {
  // a client that sends its headers or body slowly gets 408 and loses the socket (slowloris)
  const server = createServer({
    headersTimeout: config.timeouts.headers * 1000,
    requestTimeout: config.timeouts.request * 1000,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  }, closeWhenBodyUnread(createRequestHandler(app, host, log))); // one answer per request: src/http/unread-body.ts
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.listen(config.port);
  try {
    await once(server, 'listening');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new StartProblem(`Port ${config.port} is in use by another program; set PORT to a free port (e.g. PORT=${config.port < 65535 ? config.port + 1 : 3001} npm start)`);
    }
    if (code === 'EACCES') {
      throw new StartProblem(`Port ${config.port} needs privileges this process does not have; set PORT to a port above 1023 (e.g. PORT=3000 npm start)`);
    }
    throw e;
  }
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    // requests in flight finish; a keep-alive connection is closed as soon as it goes idle
    const idle = setInterval(() => server.closeIdleConnections(), SHUTDOWN_IDLE_POLL_MS);
    idle.unref();
    server.closeIdleConnections();
    setTimeout(() => { server.closeAllConnections(); resolve(); }, SHUTDOWN_GRACE_MS).unref();
  }));
  return server;
}

/** The control socket (embedded database: the CLI's way in) and the housekeeping timers. */
async function startBackgroundJobs(root: Root, host: ProviderHost, cleanups: Cleanups): Promise<void> {
  const { config, db, log } = root;
  if (db.kind === 'embedded') {
    const control = await startControlServer(controlSocketPath(config.dataDir), root, log,
      async (op) => { if (op.startsWith('keys.')) await host.refresh(); });
    cleanups.push(() => new Promise((r) => control.close(r)));
  }
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
  schedule('auditRetention', AUDIT_PRUNE_EVERY_MS, (trx) => pruneAudit(root.auditRepo, config.administration.auditRetentionDays, trx), 'old audit events pruned');
  if (!root.redis) schedule('expiredRecords', PRUNE_EVERY_MS, (trx) => pruneExpired(trx), 'expired records pruned');
  schedule('webhookRetention', WEBHOOK_PRUNE_EVERY_MS, (trx) => root.webhookRepo.prune(config.webhooks.retentionDays, trx), 'old webhook messages pruned');
  // every node delivers webhooks (src/webhooks/delivery.ts); stopped before the stores close
  const webhooks = await startWebhookNode({ outbox: root.outbox, delivery: root.webhookDelivery, repo: root.webhookRepo,
    onError: (err) => log.warn({ err: err.message }, 'webhook endpoints not reloaded'),
    // endpoints changed by another node or the CLI: Postgres says so (a gap in listening reloads too)
    watch: config.databaseDirectUrl
      ? ((url) => (changed: () => void) => listenChannel(url, WEBHOOK_ENDPOINTS_CHANNEL, { onPayload: changed, onGap: changed }, log))(config.databaseDirectUrl)
      : undefined });
  cleanups.push(() => webhooks.stop());
}
