// Why: webhooks (issue 16) — apps hear about users, workspaces and sessions the moment they change.
// Three tables make a transactional outbox and its delivery log:
// - webhook_endpoints: where to send (url), what (events: webhook types, or '*' for all), for which
//   workspace (null: every workspace and the events of no workspace), and the Standard Webhooks
//   signing secret, encrypted under the master secret like TOTP secrets. An endpoint that failed for
//   a day is disabled with a reason the console shows; failing_since is when its failures began.
// - webhook_messages: one row per (event, endpoint), written by the audit trail's sink in the same
//   transaction as the change (a rollback leaves none). The row IS the queue: a node claims due rows
//   with FOR UPDATE SKIP LOCKED under a lease (claimed_until/claim), so each message is in flight on
//   one node at a time; `seq` orders the messages of one subject on one endpoint, and the next is
//   not claimed while an earlier one is pending or in flight.
// - webhook_attempts: the delivery log, one row per HTTP attempt (status, latency, a capped response
//   excerpt), pruned with delivered messages after the retention period.
// No foreign key to workspaces: the endpoint filtered on a workspace must still receive that
// workspace's `workspace.deleted`.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.uuid('id').primary();
    t.text('url').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.uuid('workspace_id');
    t.text('secret_encrypted').notNullable();
    t.text('description').notNullable().defaultTo('');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('disabled_reason');
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('failing_since', { useTz: true });
    t.timestamps(true, true);
  });

  await knex.schema.createTable('webhook_messages', (t) => {
    t.text('id').primary(); // the webhook-id header: msg_…
    t.specificType('seq', 'bigint generated always as identity').notNullable();
    t.uuid('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.text('event_type').notNullable();
    t.text('subject').notNullable();
    t.jsonb('payload').notNullable(); // the body sent: {type, timestamp, data}
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_until', { useTz: true });
    t.uuid('claim');
    t.integer('last_status');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
  });
  await knex.raw(`alter table webhook_messages add constraint webhook_messages_status check (status in ('pending', 'delivering', 'delivered', 'failed'))`);
  // what a node claims next, and what blocks a subject's later messages
  await knex.raw(`create index webhook_messages_due on webhook_messages (next_attempt_at) where status = 'pending'`);
  await knex.raw(`create index webhook_messages_leased on webhook_messages (claimed_until) where status = 'delivering'`);
  await knex.raw(`create index webhook_messages_open_subject on webhook_messages (endpoint_id, subject, seq) where status in ('pending', 'delivering')`);
  await knex.raw('create index webhook_messages_endpoint on webhook_messages (endpoint_id, seq desc)');
  await knex.raw('create index webhook_messages_created on webhook_messages (created_at)');

  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id');
    t.text('message_id').notNullable().references('webhook_messages.id').onDelete('CASCADE');
    t.uuid('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('attempt').notNullable();
    t.integer('status_code');
    t.integer('latency_ms').notNullable();
    t.text('response_excerpt');
    t.text('error');
    t.timestamp('next_attempt_at', { useTz: true });
    t.index(['endpoint_id', 'id']);
    t.index(['message_id']);
    t.index(['at']);
  });

  // every node keeps the enabled endpoints in memory (src/webhooks/outbox.ts): any change to the
  // table, from any node or the CLI, tells them to reload (the channel is WEBHOOK_ENDPOINTS_CHANNEL)
  await knex.raw(`
    create or replace function gatehouse_notify_webhook_endpoints() returns trigger as $$
    begin
      perform pg_notify('gatehouse_webhook_endpoints', 'changed');
      return null;
    end $$ language plpgsql`);
  await knex.raw(`
    create trigger webhook_endpoints_notify after insert or update or delete on webhook_endpoints
    for each statement execute function gatehouse_notify_webhook_endpoints()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists webhook_endpoints_notify on webhook_endpoints');
  await knex.raw('drop function if exists gatehouse_notify_webhook_endpoints()');
  await knex.schema.dropTableIfExists('webhook_attempts');
  await knex.schema.dropTableIfExists('webhook_messages');
  await knex.schema.dropTableIfExists('webhook_endpoints');
}
