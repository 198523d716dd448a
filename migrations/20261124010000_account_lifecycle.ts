// Why: the account lifecycle (issue 3) — single-use mailed tokens (verification, reset, email
// change), second factors (TOTP, passkeys, recovery codes), a per-account record of sign-in
// sessions for the "sessions" page, and the policy flags that require verification or MFA.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.boolean('mfa_required').notNullable().defaultTo(false);
    t.timestamp('password_changed_at', { useTz: true });
  });

  // the SQL store's per-account index, to end every session and grant of an account at once
  await knex.schema.alterTable('oidc_records', (t) => {
    t.text('account_id');
    t.index(['account_id']);
  });

  await knex.schema.createTable('user_tokens', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('purpose').notNullable(); // verify_email | reset_password | change_email
    t.text('token_hash').notNullable().unique();
    t.text('code_hash');
    t.text('new_email');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id', 'purpose']);
  });

  await knex.schema.createTable('mfa_totp', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE');
    t.text('secret_encrypted').notNullable();
    t.timestamp('confirmed_at', { useTz: true });
    t.bigInteger('last_used_step'); // a code is accepted once (RFC 6238 §5.2)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('webauthn_credentials', (t) => {
    t.text('id').primary(); // credential id, base64url
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('public_key').notNullable(); // base64url COSE key
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.specificType('transports', 'text[]').notNullable().defaultTo('{}');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('recovery_codes', (t) => {
    t.bigIncrements('id');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('code_hash').notNullable();
    t.timestamp('used_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('account_sessions', (t) => {
    t.text('uid').primary(); // the provider session's uid
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('ip');
    t.text('user_agent');
    t.specificType('amr', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    t.index(['user_id', 'ended_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['account_sessions', 'recovery_codes', 'webauthn_credentials', 'mfa_totp', 'user_tokens']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable('oidc_records', (t) => { t.dropColumn('account_id'); });
  await knex.schema.alterTable('users', (t) => { t.dropColumn('mfa_required'); t.dropColumn('password_changed_at'); });
}
