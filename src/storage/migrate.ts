// Runs the migrations. Several nodes may start at once: knex's lock table lets one of them run the
// migrations while the others wait here and then find nothing left to do.
import type { Knex } from 'knex';
import { migrationSource } from '../../migrations/index.ts';

const LOCK_RETRY_MS = 250;
const LOCK_WAIT_MAX_MS = 60_000;

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const started = Date.now();
  for (;;) {
    try {
      const [, applied] = await knex.migrate.latest({ migrationSource });
      return applied as string[];
    } catch (err) {
      const locked = (err as Error).name === 'MigrationLocked'
        || /already locked|duplicate key|already exists/i.test((err as Error).message);
      if (!locked || Date.now() - started > LOCK_WAIT_MAX_MS) throw err;
      await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
    }
  }
}
