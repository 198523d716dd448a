// Why: workspaces (issue 4) — tenants a user belongs to with a role in each (owner, admin, member),
// emailed invitations (only a hash of the single-use token is kept), and the user's active
// workspace, which tokens name. Deleting a workspace removes its memberships and invitations and
// clears it as anyone's active workspace (ON DELETE SET NULL), so no later token can name it.
import type { Knex } from 'knex';

const ROLES = ['owner', 'admin', 'member'];
/** Lower-case letters, digits and single hyphens inside; 2–63 characters (a DNS label). */
const SLUG_PATTERN = '^[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){1,62}$';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('workspaces', (t) => {
    t.uuid('id').primary();
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.uuid('created_by').references('users.id').onDelete('SET NULL');
    t.timestamps(true, true);
  });
  // DDL takes no bind parameters: the pattern (a constant of ours) is quoted as a literal, and
  // knex reads every `?` as a placeholder, so those are escaped as `\\?`.
  const literal = SLUG_PATTERN.replaceAll("'", "''").replaceAll('?', '\\?');
  await knex.raw(`alter table workspaces add constraint workspaces_slug_format check (slug ~ '${literal}')`);

  await knex.schema.createTable('memberships', (t) => {
    t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('role').notNullable().checkIn(ROLES, 'memberships_role');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['workspace_id', 'user_id']);
    t.index(['user_id', 'created_at']);
  });

  await knex.schema.createTable('invitations', (t) => {
    t.uuid('id').primary();
    t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
    t.text('email').notNullable(); // as typed, for display and mail
    t.text('email_normalized').notNullable();
    t.text('role').notNullable().checkIn(ROLES, 'invitations_role');
    t.text('token_hash').notNullable().unique(); // sha256 of the mailed token
    t.uuid('invited_by').references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('accepted_at', { useTz: true });
    t.uuid('accepted_by').references('users.id').onDelete('SET NULL');
    t.timestamp('revoked_at', { useTz: true });
    t.index(['workspace_id', 'created_at']);
    t.index(['email_normalized']);
  });

  await knex.schema.alterTable('users', (t) => {
    t.uuid('active_workspace_id').references('workspaces.id').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => { t.dropColumn('active_workspace_id'); });
  for (const table of ['invitations', 'memberships', 'workspaces']) await knex.schema.dropTableIfExists(table);
}
