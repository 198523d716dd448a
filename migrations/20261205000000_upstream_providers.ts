// Why: upstream identity providers (issue 14) — "Continue with Google/GitHub/Microsoft" and a
// company's own OpenID provider. Three things are stored:
// - upstream_providers: one row per registered provider (its name is the stable key: it is in the
//   callback URL registered upstream, so it never changes); the client secret and any private key
//   are encrypted under the master secret like TOTP secrets; everything else (scopes, presets'
//   options, provisioning and linking policy, organisation-sync rules) is `settings`.
// - user_identities: (provider, upstream subject) → user, unique. The only key ever used to find a
//   user again after an upstream sign-in: emails change upstream, subjects don't. The migration kit
//   (issue 15) imports rows here too, so a provider must be registered before its identities.
// - memberships.managed_by: the provider whose organisation sync made a membership; the sync adds,
//   updates and removes only those, never memberships made by hand (null). Removing a provider
//   leaves its memberships as if made by hand. workspaces.managed_by: the provider whose sync
//   created the workspace (see below).
import type { Knex } from 'knex';

/** Lower-case letters, digits and single hyphens inside; 2–63 characters (as workspace slugs). */
const NAME_PATTERN = '^[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){1,62}$';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('upstream_providers', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable().unique();
    t.text('display_name').notNullable();
    // 'oidc' (any OpenID provider by issuer) or a preset: 'google', 'microsoft', 'github', 'gitlab'
    t.text('kind').notNullable();
    t.text('issuer'); // null for OAuth-only presets (GitHub)
    t.text('client_id').notNullable();
    t.text('client_secret_encrypted');
    t.text('private_key_encrypted'); // private_key_jwt: a JWK, encrypted
    t.jsonb('settings').notNullable().defaultTo('{}');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('source').notNullable().defaultTo('cli'); // cli | api | console | file
    t.timestamps(true, true);
  });
  const literal = NAME_PATTERN.replaceAll("'", "''").replaceAll('?', '\\?');
  await knex.raw(`alter table upstream_providers add constraint upstream_providers_name_format check (name ~ '${literal}')`);

  await knex.schema.createTable('user_identities', (t) => {
    t.uuid('id').primary();
    t.text('provider').notNullable().references('upstream_providers.name').onUpdate('CASCADE').onDelete('CASCADE');
    t.text('subject').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('email'); // as the upstream last said, for display only: never a lookup key
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_sign_in_at', { useTz: true });
    t.unique(['provider', 'subject']);
    t.index(['user_id']);
  });

  await knex.schema.alterTable('memberships', (t) => {
    t.text('managed_by').references('upstream_providers.name').onUpdate('CASCADE').onDelete('SET NULL');
  });
  // the provider whose organisation sync created a workspace: a rule with a template ('{value}' from
  // an upstream claim) may join only such workspaces, never one people made by hand (an upstream
  // user who controls a claim value must not pick an existing workspace to join as admin)
  await knex.schema.alterTable('workspaces', (t) => {
    t.text('managed_by').references('upstream_providers.name').onUpdate('CASCADE').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workspaces', (t) => { t.dropColumn('managed_by'); });
  await knex.schema.alterTable('memberships', (t) => { t.dropColumn('managed_by'); });
  await knex.schema.dropTableIfExists('user_identities');
  await knex.schema.dropTableIfExists('upstream_providers');
}
