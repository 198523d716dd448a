// Why: the durable core of Gatehouse — accounts, OAuth clients, signing keys, the audit trail —
// plus one table for the provider's short-lived records, used only when no Redis is configured
// (the embedded default), so that one embedded database holds everything.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('email').notNullable();
    t.text('email_normalized').notNullable().unique();
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.text('password_hash');
    t.text('name');
    t.text('given_name');
    t.text('family_name');
    t.text('picture');
    t.text('locale');
    t.specificType('roles', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('disabled_at', { useTz: true });
    t.timestamps(true, true);
  });

  await knex.schema.createTable('clients', (t) => {
    t.text('client_id').primary();
    t.text('name').notNullable();
    // Client secrets are needed in clear for client_secret_basic/post comparison and for
    // HS256 client_secret_jwt, so they are encrypted under the master secret, not hashed.
    t.text('client_secret_encrypted');
    t.jsonb('metadata').notNullable();
    t.text('source').notNullable().defaultTo('cli');
    t.timestamps(true, true);
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.jsonb('public_jwk').notNullable();
    t.text('private_jwk_encrypted').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('activates_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retired_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true });
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('type').notNullable();
    t.text('actor_id');
    t.text('subject_id');
    t.text('client_id');
    t.text('ip');
    t.text('user_agent');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.index(['type', 'at']);
    t.index(['subject_id', 'at']);
  });

  await knex.schema.createTable('oidc_records', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('user_code');
    t.text('uid');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['model', 'id']);
    t.index(['grant_id']);
    t.index(['uid']);
    t.index(['user_code']);
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['oidc_records', 'audit_events', 'signing_keys', 'clients', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
