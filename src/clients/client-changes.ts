// Tells every node that a client changed, so cached clients (src/oidc/adapters/client.ts) are
// dropped at once instead of when their TTL runs out.
//
// The message travels over Postgres LISTEN/NOTIFY rather than Redis: clients change where Postgres
// is written, and the operator CLI writes Postgres directly, without a Redis connection. In the
// embedded default every change happens inside the server process (the CLI goes through its
// control socket), so telling this process is enough.
import pg from 'pg';
import type { Knex } from 'knex';
import type { Logger } from 'pino';

const CHANNEL = 'gatehouse_client_changed';
/** Listener reconnect backoff: first retry soon, then no more than every few seconds. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/** A client id, or undefined for "anything may have changed" (after a missed-message window). */
export type ClientChangeListener = (clientId: string | undefined) => void;

export interface ClientChangeFeed {
  /** ClientService's onChange: this process at once, and every other node through Postgres. */
  publish(clientId: string): void;
  subscribe(fn: ClientChangeListener): () => void;
  /** Delivers to this process's subscribers only (the Postgres listener calls it). */
  deliver(clientId: string | undefined): void;
}

export function createClientChangeFeed(knex: Knex, kind: 'postgres' | 'embedded'): ClientChangeFeed {
  const listeners = new Set<ClientChangeListener>();
  const feed: ClientChangeFeed = {
    publish(clientId) {
      feed.deliver(clientId);
      if (kind === 'postgres') {
        // Best effort: a node that misses it still drops the client within the cache TTL.
        knex.raw('select pg_notify(?, ?)', [CHANNEL, clientId]).catch(() => {});
      }
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    deliver(clientId) {
      for (const fn of listeners) fn(clientId);
    },
  };
  return feed;
}

/**
 * LISTENs on a dedicated connection (a pooled one cannot hold a LISTEN). When that connection
 * drops it reconnects with backoff, and on every (re)connect tells subscribers that anything may
 * have changed: notifications sent while it was away are lost.
 */
export function listenForClientChanges(databaseUrl: string, feed: ClientChangeFeed, log: Logger): { stop(): Promise<void> } {
  let client: pg.Client | undefined;
  let stopped = false;
  let delay = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => { timer = undefined; void connect(); }, delay);
    timer.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true });
    client = c;
    let failed = false;
    const lost = (err?: Error) => {
      if (failed) return;
      failed = true;
      if (!stopped) log.warn({ err: err?.message }, 'client change listener disconnected; reconnecting');
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      retry();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (msg) => { if (msg.channel === CHANNEL && msg.payload) feed.deliver(msg.payload); });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      if (stopped) { await c.end(); return; }
      delay = RECONNECT_MIN_MS;
      feed.deliver(undefined);
    } catch (err) {
      lost(err as Error);
    }
  }

  void connect();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
