// LISTEN on one Postgres channel on a dedicated connection (a pooled one cannot hold a LISTEN),
// reconnecting with backoff. On every (re)connect `onGap` runs: notifications sent while the
// connection was away are lost, so whatever depends on them must assume anything changed.
import pg from 'pg';
import type { Knex } from 'knex';
import type { Logger } from 'pino';

/** Reconnect backoff: first retry soon, then no more than every few seconds. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

export function listenChannel(databaseUrl: string, channel: string, handlers: { onPayload(payload: string): void; onGap(): void }, log: Logger): { stop(): Promise<void> } {
  if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel name ${channel}`);
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
      if (!stopped) log.warn({ err: err?.message, channel }, 'change listener disconnected; reconnecting');
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      retry();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (msg) => { if (msg.channel === channel && msg.payload) handlers.onPayload(msg.payload); });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (stopped) { await c.end(); return; }
      delay = RECONNECT_MIN_MS;
      handlers.onGap();
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

/** Sends `payload` on `channel` to every listener (the sending side of listenChannel). */
export async function notifyChannel(knex: Knex, channel: string, payload: string): Promise<void> {
  await knex.raw('select pg_notify(?, ?)', [channel, payload]);
}
