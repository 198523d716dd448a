// Why: resources (APIs, RFC 8707 resource indicators) become first-class records (issue 15): each
// has an audience, the user claims its JWT access tokens carry (only those the user granted by
// scope), its own API scopes and an access-token lifetime. GATEHOUSE_RESOURCES stays as a shortcut
// and is merged with these rows in memory (src/resources/resource-registry.ts).
// The provider reads resources from each node's memory on the token path, never per token from
// here; a trigger tells every node that the table changed (any write — the admin API, the console,
// the operator CLI on another host — passes through it), and each node reloads the whole table,
// which is small.
import type { Knex } from 'knex';

/** src/resources/resource.repo.ts RESOURCE_CHANGED_CHANNEL: a migration stays as it was written. */
const RESOURCE_CHANGED_CHANNEL = 'gatehouse_resource_changed';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resources', (t) => {
    t.uuid('id').primary();
    t.text('audience').notNullable().unique(); // the resource indicator, the tokens' `aud`
    t.text('name').notNullable();
    t.jsonb('claims').notNullable().defaultTo('[]'); // user claims the API asks for, e.g. ["email","roles"]
    t.jsonb('scopes').notNullable().defaultTo('[]'); // the API's own scopes, e.g. ["orders:read"]
    t.integer('access_token_ttl'); // seconds; null: GATEHOUSE_ACCESS_TOKEN_TTL
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('source').notNullable().defaultTo('cli'); // cli | api | console
    t.timestamps(true, true);
  });
  await knex.raw(`
    create or replace function gatehouse_notify_resource_change() returns trigger as $$
    begin
      perform pg_notify('${RESOURCE_CHANGED_CHANNEL}', 'changed');
      return null;
    end;
    $$ language plpgsql`);
  await knex.raw(`
    create trigger resources_notify_change after insert or update or delete on resources
    for each statement execute function gatehouse_notify_resource_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists resources_notify_change on resources');
  await knex.raw('drop function if exists gatehouse_notify_resource_change()');
  await knex.schema.dropTableIfExists('resources');
}
