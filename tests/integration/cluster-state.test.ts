// Ten nodes on one Postgres: the pool size is honoured, LISTEN and the migrations' lock use the
// direct URL, the built-in client is written only when it differs, housekeeping runs once per
// cluster, and signing keys switch by the database's clock whatever the host's clock says.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { migrateLatest } from '../../src/storage/migrate.ts';
import { runHousekeeping } from '../../src/storage/housekeeping.ts';
import { postgresRoot, type Root } from '../support/root.ts';
import { ACCOUNT_CLIENT_ID } from '../../src/clients/client.service.ts';
import { listenForClientChanges, createClientChangeFeed } from '../../src/clients/client-changes.ts';
import { createClientRepo } from '../../src/clients/client.repo.ts';
import { createKeyService } from '../../src/keys/key.service.ts';
import { createTransactions } from '../../src/storage/transactions.ts';
import { createKeyRepo } from '../../src/keys/key.repo.ts';
import { createSecretBox } from '../../src/security/secretbox.ts';
import { createProviderHost } from '../../src/oidc/host.ts';
import { freshDatabase } from '../support/env.ts';
import { migratedPostgres, tempDir, testSecret } from '../support/stores.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: 'silent' });
const withApp = (url: string, name: string) => { const u = new URL(url); u.searchParams.set('application_name', name); return u.toString(); };
const appName = (label: string) => `gh_${label}_${randomBytes(4).toString('hex')}`;

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('the Postgres pool and the direct connection', () => {
  it('never holds more connections than GATEHOUSE_DB_POOL_MAX, however many queries wait', async () => {
    const fresh = await freshDatabase();
    const dir = tempDir();
    const name = appName('pool');
    const db = openDatabase({ databaseUrl: withApp(fresh.url, name), dataDir: dir.path, dbPoolMax: 3 });
    const watcher = new pg.Client({ connectionString: fresh.url });
    await watcher.connect();
    try {
      let most = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const { rows } = await watcher.query('select count(*)::int as n from pg_stat_activity where application_name = $1', [name]);
          most = Math.max(most, rows[0].n);
          await sleep(20);
        }
      })();
      await Promise.all(Array.from({ length: 20 }, () => db.knex.raw('select pg_sleep(0.15)')));
      watching = false;
      await watch;
      expect(most).toBe(3); // the load filled the pool, and no more
    } finally {
      await watcher.end();
      await db.close();
      await fresh.drop();
      dir.remove();
    }
  });

  it('takes the migrations lock on DATABASE_DIRECT_URL, not through the pool', async () => {
    const fresh = await freshDatabase();
    const dir = tempDir();
    const pooled = appName('pooled');
    const direct = appName('direct');
    const db = openDatabase({ databaseUrl: withApp(fresh.url, pooled), dataDir: dir.path });
    const holder = new pg.Client({ connectionString: fresh.url });
    await holder.connect();
    try {
      // another node is migrating: the lock is held, so this node polls for it where we can see it
      await holder.query('select pg_advisory_lock($1)', [0x6768_6d67]);
      const migrating = migrateLatest(db.knex, { directUrl: withApp(fresh.url, direct) });
      const waiting = await until(async () => {
        const { rows } = await holder.query(
          "select application_name from pg_stat_activity where query like '%pg_try_advisory_lock%' and pid <> pg_backend_pid() and application_name in ($1, $2)",
          [pooled, direct]);
        return rows.length ? rows.map((r) => r.application_name as string) : undefined;
      }, 5000);
      expect(waiting).toEqual([direct]);
      await holder.query('select pg_advisory_unlock($1)', [0x6768_6d67]);
      expect((await migrating).length).toBeGreaterThan(0);
      expect(await db.knex.schema.hasTable('housekeeping_runs')).toBe(true);
    } finally {
      await holder.end();
      await db.close();
      await fresh.drop();
      dir.remove();
    }
  });

  it('listens for client changes on the URL it is given (the server passes DATABASE_DIRECT_URL)', async () => {
    const store = await migratedPostgres();
    const direct = appName('listen');
    const feed = createClientChangeFeed(createClientRepo(store.db.knex), 'postgres');
    const heard: Array<string | undefined> = [];
    feed.subscribe((id) => heard.push(id));
    const listener = listenForClientChanges(withApp(store.url, direct), feed, silent);
    try {
      await until(async () => (heard.length ? true : undefined), 5000); // the first connect: a gap
      const rows = await admin(store.url, async (c) => (await c.query("select query from pg_stat_activity where application_name = $1", [direct])).rows);
      expect(rows.map((r) => r.query)).toEqual(['LISTEN gatehouse_client_changed']);
    } finally {
      await listener.stop();
      await store.dispose();
    }
  });
});

describe('the built-in account client at boot', () => {
  let store: Awaited<ReturnType<typeof postgresRoot>>;
  let c: Root;
  beforeAll(async () => {
    store = await postgresRoot();
    c = store.root;
  });
  afterAll(async () => { await store?.dispose(); });

  it('is written, and every node told, only when something differs', async () => {
    const notices: string[] = [];
    const listener = new pg.Client({ connectionString: store.url });
    await listener.connect();
    listener.on('notification', (m) => { if (m.payload) notices.push(m.payload); });
    await listener.query('LISTEN gatehouse_client_changed');
    try {
      const issuer = 'https://id.example.test';
      expect(await c.clients.ensureSystemClient(issuer)).toBe(true);
      await until(async () => (notices.length ? true : undefined), 5000);
      const first = await store.db.knex('clients').where({ client_id: ACCOUNT_CLIENT_ID }).first();

      // a second node boots with the same issuer: nothing to write, nobody to tell
      notices.length = 0;
      expect(await c.clients.ensureSystemClient(issuer)).toBe(false);
      const again = await store.db.knex('clients').where({ client_id: ACCOUNT_CLIENT_ID }).first();
      expect(again.updated_at).toEqual(first.updated_at);
      // a notice sent now would arrive before this round trip's answer (one connection, in order)
      await store.db.knex.raw("select pg_notify('gatehouse_client_changed', 'marker')");
      await until(async () => (notices.includes('marker') ? true : undefined), 5000);
      expect(notices).toEqual(['marker']);

      // the issuer changed: written and announced
      notices.length = 0;
      expect(await c.clients.ensureSystemClient('https://id2.example.test')).toBe(true);
      await until(async () => (notices.includes(ACCOUNT_CLIENT_ID) ? true : undefined), 5000);
      expect((await c.clients.show(ACCOUNT_CLIENT_ID)).redirect_uris).toEqual(['https://id2.example.test/account/callback']);
    } finally {
      await listener.end();
    }
  });
});

describe('housekeeping once per cluster', () => {
  let store: Awaited<ReturnType<typeof migratedPostgres>>;
  let other: Database;
  const dir = tempDir();
  beforeAll(async () => {
    store = await migratedPostgres();
    other = openDatabase({ databaseUrl: store.url, dataDir: dir.path });
  });
  afterAll(async () => { await other.close(); await store.dispose(); dir.remove(); });

  it('runs a job on one of two nodes that start it at once, then not again within its period', async () => {
    let runs = 0;
    const work = async (trx: typeof store.db.knex) => { runs++; await trx.raw('select pg_sleep(0.3)'); return 1; };
    const outcomes = await Promise.all([
      runHousekeeping(store.db.knex, 'auditRetention', 3600_000, work),
      runHousekeeping(other.knex, 'auditRetention', 3600_000, work),
    ]);
    expect(runs).toBe(1);
    expect(outcomes.map((o) => o.ran).sort()).toEqual([false, true]);
    expect(outcomes.find((o) => !o.ran)).toMatchObject({ reason: 'another node is running it' });

    // a node whose timer fires later in the same period finds the job done
    expect(await runHousekeeping(other.knex, 'auditRetention', 3600_000, work)).toEqual({ ran: false, reason: 'ran recently' });
    // another job is not held up by this one
    expect(await runHousekeeping(other.knex, 'expiredRecords', 3600_000, work)).toEqual({ ran: true, result: 1 });
    // the period over (here: a period shorter than the time since), it runs again
    expect(await runHousekeeping(store.db.knex, 'auditRetention', 0, work)).toEqual({ ran: true, result: 1 });
    expect(runs).toBe(3);
  });

  it('records nothing for a failed run: the next node to try runs it', async () => {
    const lastRun = async () => (await store.db.knex('housekeeping_runs').where({ job: 'expiredRecords' }).first())?.last_run_at;
    const before = await lastRun();
    await expect(runHousekeeping(store.db.knex, 'expiredRecords', 0, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await lastRun()).toEqual(before);
    expect(await runHousekeeping(other.knex, 'expiredRecords', 0, async () => 2)).toEqual({ ran: true, result: 2 });
  });
});

/**
 * Runs `fn` with this process's clock off by `offsetMs`, as on a host whose clock is skewed:
 * `new Date()` and `Date.now()` are shifted; dates built from a value are not.
 */
async function withSkewedClock<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [number]));
    }
    static now() { return RealDate.now() + offsetMs; }
  }
  globalThis.Date = SkewedDate as DateConstructor;
  try { return await fn(); } finally { globalThis.Date = RealDate; }
}

describe('signing keys follow the database clock', () => {
  let store: Awaited<ReturnType<typeof migratedPostgres>>;
  const box = createSecretBox(testSecret(), 'gatehouse data encryption');
  const REFRESH_SECONDS = 1;
  const keysOn = () => createKeyService({ transactions: createTransactions(store.db.knex), repo: createKeyRepo(store.db.knex), box, timing: {
    maxTokenLifetimeSeconds: () => 60, refreshSeconds: REFRESH_SECONDS, activationDelaySeconds: 2,
  } });
  const signer = async (keys: ReturnType<typeof keysOn>) => (await keys.list()).filter((k) => k.alg === 'RS256' && k.status === 'active').map((k) => k.kid);
  const firstRs = (jwks: { keys: Array<Record<string, unknown>> }) => jwks.keys.find((k) => k.alg === 'RS256')?.kid as string | undefined;
  beforeEach(async () => { store = await migratedPostgres(); });
  afterEach(async () => { await store.dispose(); });

  it('a rotation with immediate activation from a host that runs ahead signs at once on every node', async () => {
    const keys = keysOn();
    await keys.ensureKeys();
    const [old] = await signer(keys);
    const { kids, activatesAt } = await withSkewedClock(60_000, () => keys.rotate(['RS256'], { activateInSeconds: 0 }));
    const [fresh] = kids;
    // written by the database's clock, not a minute ahead
    const [{ now }] = (await store.db.knex.raw('select clock_timestamp() as now')).rows;
    expect(activatesAt.getTime()).toBeLessThanOrEqual(new Date(now).getTime());
    // a node with a correct clock stops signing with the old key at once
    expect(await signer(keys)).toEqual([fresh]);
    expect(firstRs(await keys.providerJwks() as never)).toBe(fresh);
    expect(old).not.toBe(fresh);
  });

  it('a node whose clock is skewed switches to a pending key at the database\'s activation time, no earlier, no later', async () => {
    const keys = keysOn();
    await keys.ensureKeys();
    const [old] = await signer(keys);
    const { kids: [next], activatesAt } = await keys.rotate(['RS256'], { activateInSeconds: 2 });
    const builds: Array<string | undefined> = [];
    // a node an hour fast: before activation it must keep signing with the current key
    const fast = await withSkewedClock(3600_000, () => createProviderHost({
      keys, refreshSeconds: 3600, log: silent, build: (jwks) => { builds.push(firstRs(jwks as never)); return {} as never; },
    }));
    fast.stop();
    expect(builds).toEqual([old]);
    // a node an hour slow: once the database has passed the activation time it switches
    const slow = await withSkewedClock(-3600_000, () => createProviderHost({
      keys, refreshSeconds: 3600, log: silent, build: (jwks) => { builds.push(firstRs(jwks as never)); return {} as never; },
    }));
    slow.stop();
    expect(builds).toEqual([old, old]);
    await until(async () => ((await keys.now()) > activatesAt ? true : undefined), 5000);
    expect(await withSkewedClock(-3600_000, () => slow.refresh())).toBe(true);
    expect(await withSkewedClock(3600_000, () => fast.refresh())).toBe(true);
    expect(builds).toEqual([old, old, next, next]);
  });
});
