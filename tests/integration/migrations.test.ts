// Migrations run when every node starts: several nodes at once must not trip over each other,
// and the embedded database must keep its data across restarts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Knex } from 'knex';
import { migrationSource, RENAMED_MIGRATIONS } from '../../migrations/index.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { migrateLatest } from '../../src/storage/migrate.ts';
import { freshDatabase, requireReal } from '../support/env.ts';
import { tempDir } from '../support/stores.ts';

requireReal();

const NODES = 3;
const TABLES = ['users', 'clients', 'signing_keys', 'audit_events', 'oidc_records'];

async function migrationNames(): Promise<string[]> {
  const list = await migrationSource.getMigrations([]);
  return list.map((m) => migrationSource.getMigrationName(m));
}

describe('migrations on PostgreSQL, three nodes starting at once', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let dbs: Database[] = [];
  const dir = tempDir();
  beforeAll(async () => {
    fresh = await freshDatabase();
    dbs = Array.from({ length: NODES }, () => openDatabase({ databaseUrl: fresh.url, dataDir: dir.path }));
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.close()));
    await fresh?.drop();
    dir.remove();
  });

  it('all succeed, each migration is applied and recorded once, and the tables exist', async () => {
    const results = await Promise.all(dbs.map((d) => migrateLatest(d.knex)));
    const names = await migrationNames();

    expect(results.flat().sort()).toEqual([...names].sort()); // one node applied them; the others found nothing to do
    const knex = dbs[0]!.knex;
    const recorded = await knex('knex_migrations').select('name').orderBy('id');
    expect(recorded.map((r) => r.name)).toEqual(names);
    const [lock] = await knex('knex_migrations_lock').select('is_locked');
    expect(lock.is_locked).toBe(0);
    for (const table of TABLES) expect(await knex.schema.hasTable(table)).toBe(true);
  });

  it('a later start finds nothing to do', async () => {
    expect(await migrateLatest(dbs[1]!.knex)).toEqual([]);
  });

  it('gets past a lock table that an earlier race left with two rows, or a lock never freed', async () => {
    const knex = dbs[0]!.knex;
    await knex('knex_migrations_lock').insert({ is_locked: 0 }); // two rows: knex's own lock could never be taken
    expect(await migrateLatest(dbs[2]!.knex)).toEqual([]);
    await knex('knex_migrations_lock').update({ is_locked: 1 });
    expect(await migrateLatest(dbs[1]!.knex)).toEqual([]);
    expect(await knex('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
  });
});

describe('a database migrated before migrations were renamed (their old names in knex_migrations)', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let db: Database;
  const dir = tempDir();
  beforeAll(async () => {
    fresh = await freshDatabase();
    db = openDatabase({ databaseUrl: fresh.url, dataDir: dir.path });
  });
  afterAll(async () => {
    await db?.close();
    await fresh?.drop();
    dir.remove();
  });

  it('is migrated under the new names: nothing runs twice, nothing is called missing', async () => {
    // the list as an earlier release ran it: same migrations, in the same order, under the old names
    const oldNameOf = new Map(Object.entries(RENAMED_MIGRATIONS).map(([from, to]) => [to, from]));
    const list = await migrationSource.getMigrations([]);
    const oldSource: Knex.MigrationSource<(typeof list)[number]> = {
      async getMigrations() { return list; },
      getMigrationName: (m) => { const name = migrationSource.getMigrationName(m); return oldNameOf.get(name) ?? name; },
      getMigration: (m) => migrationSource.getMigration(m),
    };
    await db.knex.migrate.latest({ migrationSource: oldSource });
    const before = (await db.knex('knex_migrations').select('name')).map((r) => r.name as string);
    expect(before).toEqual(expect.arrayContaining(Object.keys(RENAMED_MIGRATIONS)));

    expect(await migrateLatest(db.knex)).toEqual([]);
    const recorded = await db.knex('knex_migrations').select('name').orderBy('id');
    expect(recorded.map((r) => r.name)).toEqual(await migrationNames());
  });
});

describe('migrations on the embedded database (PGlite)', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('data written before a restart is there after it', async () => {
    const id = randomUUID();
    const first = openDatabase({ databaseUrl: undefined, dataDir: dir.path });
    expect(first.kind).toBe('embedded');
    try {
      expect(await migrateLatest(first.knex)).toEqual(await migrationNames());
      await first.knex('users').insert({ id, email: 'Keep@Example.com', email_normalized: 'keep@example.com' });
    } finally {
      await first.close();
    }

    const second = openDatabase({ databaseUrl: undefined, dataDir: dir.path });
    try {
      expect(await migrateLatest(second.knex)).toEqual([]);
      const row = await second.knex('users').where({ id }).first();
      expect(row).toMatchObject({ id, email: 'Keep@Example.com', email_normalized: 'keep@example.com', roles: [] });
    } finally {
      await second.close();
    }
  });
});
