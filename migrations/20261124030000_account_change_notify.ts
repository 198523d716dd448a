// Why: nodes cache accounts for the token hot path (refresh, userinfo); any change to a user row —
// from the app, the admin API or the operator CLI — must reach every node's cache at once. A
// trigger is the one place every write passes through.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function gatehouse_notify_account_change() returns trigger as $$
    begin
      perform pg_notify('gatehouse_account_changed', old.id::text);
      return null;
    end;
    $$ language plpgsql`);
  await knex.raw(`
    create trigger users_notify_change after update or delete on users
    for each row execute function gatehouse_notify_account_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists users_notify_change on users');
  await knex.raw('drop function if exists gatehouse_notify_account_change()');
}
