// The migration list, imported statically so the same migrations run in the server, the CLI and
// the tests without a file-system loader. Add new migrations at the end.
import type { Knex } from 'knex';
import * as initial from './20261124000000_initial.ts';
import * as accountLifecycle from './20261124020000_account_lifecycle.ts';
import * as workspaces from './20261124010000_workspaces.ts';
import * as accountChangeNotify from './20261124030000_account_change_notify.ts';
import * as workspaceChangeNotify from './20261124040000_workspace_change_notify.ts';
import * as housekeepingRuns from './20261201000000_housekeeping_runs.ts';

interface Migration { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

const migrations: Array<[string, Migration]> = [
  ['20261124000000_initial', initial],
  ['20261124020000_account_lifecycle', accountLifecycle],
  ['20261124010000_workspaces', workspaces],
  ['20261124030000_account_change_notify', accountChangeNotify],
  ['20261124040000_workspace_change_notify', workspaceChangeNotify],
  ['20261201000000_housekeeping_runs', housekeepingRuns],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  async getMigrations() { return migrations; },
  getMigrationName([name]) { return name; },
  async getMigration([, migration]) { return migration; },
};
