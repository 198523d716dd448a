// The migration list, imported statically so the same migrations run in the server, the CLI and
// the tests without a file-system loader. Add new migrations at the end.
import type { Knex } from 'knex';
import * as initial from './20261124000000_initial.ts';
import * as accountLifecycle from './20261124010000_account_lifecycle.ts';
import * as workspaces from './20261124020000_workspaces.ts';
import * as accountChangeNotify from './20261124030000_account_change_notify.ts';
import * as workspaceChangeNotify from './20261124040000_workspace_change_notify.ts';
import * as housekeepingRuns from './20261201000000_housekeeping_runs.ts';
import * as upstreamProviders from './20261205000000_upstream_providers.ts';
import * as resources from './20261205010000_resources.ts';
import * as legacyPasswords from './20261205020000_legacy_passwords.ts';
import * as webhooks from './20261205030000_webhooks.ts';

/**
 * Names a migration was once recorded under in knex_migrations, and the name it has now. The
 * account lifecycle ran before workspaces but was named …020000 (and workspaces …010000): the
 * filenames lied about the order. They were swapped so that filename order is run order; a
 * database migrated before that recorded the old names, which src/storage/migrate.ts renames in
 * knex_migrations before migrating (else knex would call the old names missing). Never reuse an
 * old name here for a new migration.
 */
export const RENAMED_MIGRATIONS: Readonly<Record<string, string>> = {
  '20261124020000_account_lifecycle': '20261124010000_account_lifecycle',
  '20261124010000_workspaces': '20261124020000_workspaces',
};

interface Migration { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

const migrations: Array<[string, Migration]> = [
  ['20261124000000_initial', initial],
  ['20261124010000_account_lifecycle', accountLifecycle],
  ['20261124020000_workspaces', workspaces],
  ['20261124030000_account_change_notify', accountChangeNotify],
  ['20261124040000_workspace_change_notify', workspaceChangeNotify],
  ['20261201000000_housekeeping_runs', housekeepingRuns],
  ['20261205000000_upstream_providers', upstreamProviders],
  ['20261205010000_resources', resources],
  ['20261205020000_legacy_passwords', legacyPasswords],
  ['20261205030000_webhooks', webhooks],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  async getMigrations() { return migrations; },
  getMigrationName([name]) { return name; },
  async getMigration([, migration]) { return migration; },
};
