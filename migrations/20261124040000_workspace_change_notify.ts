// Why: nodes cache each user's memberships and active workspace for the token hot path (workspace
// claims on refresh and userinfo). The active workspace is a column of users, whose trigger already
// notifies; this adds the other two things the claims are made of. On the account channel, with the
// user id as payload, so one listener drops a user's account and memberships together:
// - a membership added, changed or removed (also by cascade, when a workspace or a user is deleted)
//   → that user;
// - a workspace's slug or name changed → each of its members. A rare change, and the cost is its
//   members' reloads, where clearing every cache on every node would reload every signed-in user.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function gatehouse_notify_membership_change() returns trigger as $$
    begin
      if tg_op <> 'INSERT' then perform pg_notify('gatehouse_account_changed', old.user_id::text); end if;
      if tg_op <> 'DELETE' then perform pg_notify('gatehouse_account_changed', new.user_id::text); end if;
      return null;
    end;
    $$ language plpgsql`);
  await knex.raw(`
    create trigger memberships_notify_change after insert or update or delete on memberships
    for each row execute function gatehouse_notify_membership_change()`);
  await knex.raw(`
    create or replace function gatehouse_notify_workspace_change() returns trigger as $$
    begin
      perform pg_notify('gatehouse_account_changed', m.user_id::text) from memberships m where m.workspace_id = new.id;
      return null;
    end;
    $$ language plpgsql`);
  await knex.raw(`
    create trigger workspaces_notify_change after update of slug, name on workspaces
    for each row when (old.slug is distinct from new.slug or old.name is distinct from new.name)
    execute function gatehouse_notify_workspace_change()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists workspaces_notify_change on workspaces');
  await knex.raw('drop function if exists gatehouse_notify_workspace_change()');
  await knex.raw('drop trigger if exists memberships_notify_change on memberships');
  await knex.raw('drop function if exists gatehouse_notify_membership_change()');
}
