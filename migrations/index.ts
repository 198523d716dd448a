// The migration list, imported statically so the same migrations run in the server, the CLI and
// the tests without a file-system loader. Add new migrations at the end.
import type { Knex } from 'knex';
import * as initial from './20261124000000_initial.ts';

interface Migration { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

const migrations: Array<[string, Migration]> = [
  ['20261124000000_initial', initial],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  async getMigrations() { return migrations; },
  getMigrationName([name]) { return name; },
  async getMigration([, migration]) { return migration; },
};
