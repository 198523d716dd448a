// webhook_endpoints, webhook_messages (the outbox, which is also the delivery queue) and
// webhook_attempts (the delivery log). The queue's rules live in claimDue(): due messages whose
// endpoint is enabled and whose subject has no earlier message still open on that endpoint, taken
// with FOR UPDATE SKIP LOCKED and leased, so one node at a time has a message in flight.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export type MessageStatus = 'pending' | 'delivering' | 'delivered' | 'failed';

export interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  workspace_id: string | null;
  secret_encrypted: string;
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** What the outbox keeps in memory to route events without a query. */
export type RoutingRow = Pick<EndpointRow, 'id' | 'events' | 'workspace_id'>;

export interface MessageRow {
  id: string;
  seq: string;
  endpoint_id: string;
  event_type: string;
  subject: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  created_at: Date;
  status: MessageStatus;
  attempts: number;
  next_attempt_at: Date;
  claimed_until: Date | null;
  claim: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

/** A claimed message with what sending it needs. */
export type ClaimedMessage = MessageRow & { claim: string; url: string; secret_encrypted: string; failing_since: Date | null };

export interface AttemptRow {
  id: string;
  message_id: string;
  endpoint_id: string;
  at: Date;
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
  next_attempt_at: Date | null;
}

/** A delivery-log line: the attempt with its message's event type and state. */
export type DeliveryRow = AttemptRow & { event_type: string; message_status: MessageStatus };

export interface NewMessage { id: string; endpoint_id: string; event_type: string; subject: string; payload: unknown; status?: MessageStatus }

/** Messages per INSERT … SELECT: one bind parameter (a JSON array) each, so only size bounds it. */
const MESSAGE_BATCH = 2000;

export function createWebhookRepo(knex: Knex) {
  return {
    // ── endpoints ──
    async insertEndpoint(row: Omit<EndpointRow, 'created_at' | 'updated_at' | 'disabled_reason' | 'disabled_at' | 'failing_since' | 'enabled'>, db: Queryable = knex): Promise<EndpointRow> {
      const [created] = await db<EndpointRow>('webhook_endpoints').insert(row).returning('*');
      return created!;
    },
    findEndpoint(id: string, db: Queryable = knex): Promise<EndpointRow | undefined> {
      return db<EndpointRow>('webhook_endpoints').where({ id }).first();
    },
    listEndpoints(db: Queryable = knex): Promise<EndpointRow[]> {
      return db<EndpointRow>('webhook_endpoints').orderBy('created_at', 'asc');
    },
    /** The enabled endpoints' routing fields: the outbox's in-memory list. */
    routing(db: Queryable = knex): Promise<RoutingRow[]> {
      return db<EndpointRow>('webhook_endpoints').where({ enabled: true }).select('id', 'events', 'workspace_id');
    },
    async updateEndpoint(id: string, patch: Partial<Omit<EndpointRow, 'id' | 'created_at'>>, db: Queryable = knex): Promise<EndpointRow | undefined> {
      const [row] = await db<EndpointRow>('webhook_endpoints').where({ id }).update({ ...patch, updated_at: db.fn.now() as unknown as Date }).returning('*');
      return row;
    },
    async deleteEndpoint(id: string, db: Queryable = knex): Promise<boolean> {
      return (await db('webhook_endpoints').where({ id }).delete()) > 0;
    },

    // ── the outbox ──
    /**
     * Writes messages in the caller's transaction, in batches of one INSERT … SELECT each. The join
     * keeps only endpoints that exist and are enabled now: the caller routed from a list in memory
     * that may be a moment old, and an endpoint removed meanwhile must not fail the change.
     */
    async insertMessages(rows: readonly NewMessage[], db: Queryable = knex): Promise<number> {
      let written = 0;
      for (let i = 0; i < rows.length; i += MESSAGE_BATCH) {
        const batch = rows.slice(i, i + MESSAGE_BATCH).map((r, n) => ({ ...r, status: r.status ?? 'pending', n }));
        const result = await db.raw(`
          insert into webhook_messages (id, endpoint_id, event_type, subject, payload, status)
          select m.id, m.endpoint_id, m.event_type, m.subject, m.payload, m.status
            from jsonb_to_recordset(?::jsonb)
                 as m(id text, endpoint_id uuid, event_type text, subject text, payload jsonb, status text, n integer)
            join webhook_endpoints e on e.id = m.endpoint_id and e.enabled
           order by n`, [JSON.stringify(batch)]);
        written += (result as { rowCount?: number; affectedRows?: number }).rowCount ?? (result as { affectedRows?: number }).affectedRows ?? 0;
      }
      return written;
    },

    /** One message written already claimed by this node (a test ping, sent at once, to any endpoint). */
    async insertClaimed(row: NewMessage, claim: string, leaseSeconds: number, db: Queryable = knex): Promise<void> {
      await db('webhook_messages').insert({
        id: row.id, endpoint_id: row.endpoint_id, event_type: row.event_type, subject: row.subject, payload: JSON.stringify(row.payload),
        status: 'delivering', claim, claimed_until: db.raw('now() + make_interval(secs => ?)', [leaseSeconds]), attempts: 1,
      });
    },

    /**
     * Claims up to `limit` due messages for `leaseSeconds`: pending ones whose time has come, and
     * in-flight ones whose lease ran out (their node died). Of each subject on an endpoint only the
     * oldest open message is ever due, so a later one never overtakes it, retries included.
     */
    async claimDue(limit: number, leaseSeconds: number, db: Queryable = knex): Promise<ClaimedMessage[]> {
      const claim = randomUUID();
      const { rows } = await db.raw(`
        with due as (
          select m.id from webhook_messages m
            join webhook_endpoints e on e.id = m.endpoint_id and e.enabled
           where ((m.status = 'pending' and m.next_attempt_at <= now())
                  or (m.status = 'delivering' and m.claimed_until < now()))
             and not exists (
               select 1 from webhook_messages p
                where p.endpoint_id = m.endpoint_id and p.subject = m.subject and p.seq < m.seq
                  and p.status in ('pending', 'delivering'))
           order by m.seq
           limit ?
           for update of m skip locked)
        update webhook_messages w
           set status = 'delivering', claim = ?, claimed_until = now() + make_interval(secs => ?), attempts = w.attempts + 1
          from due, webhook_endpoints e
         where w.id = due.id and e.id = w.endpoint_id
        returning w.*, e.url, e.secret_encrypted, e.failing_since`, [limit, claim, leaseSeconds]);
      return rows as ClaimedMessage[];
    },

    /** Records one attempt's outcome, if this node still holds the claim (its lease did not run out). */
    async finishAttempt(m: { id: string; claim: string }, outcome: {
      status: 'delivered' | 'pending' | 'failed'; nextAttemptAt?: Date; statusCode: number | null; error: string | null;
    }, db: Queryable = knex): Promise<boolean> {
      const n = await db('webhook_messages').where({ id: m.id, claim: m.claim, status: 'delivering' }).update({
        status: outcome.status,
        claim: null,
        claimed_until: null,
        last_status: outcome.statusCode,
        last_error: outcome.error,
        ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
        ...(outcome.status === 'delivered' ? { delivered_at: db.fn.now() } : {}),
      });
      return n > 0;
    },
    async insertAttempt(row: Omit<AttemptRow, 'id' | 'at'>, db: Queryable = knex): Promise<void> {
      await db('webhook_attempts').insert(row);
    },

    // ── endpoint health ──
    async markSucceeded(endpointId: string, db: Queryable = knex): Promise<void> {
      await db('webhook_endpoints').where({ id: endpointId }).whereNotNull('failing_since').update({ failing_since: null });
    },
    /** Notes a failure; disables the endpoint when it has failed for `disableAfterSeconds`. Whether it did. */
    async markFailed(endpointId: string, disableAfterSeconds: number, reason: string, db: Queryable = knex): Promise<boolean> {
      await db('webhook_endpoints').where({ id: endpointId }).whereNull('failing_since').update({ failing_since: db.fn.now() });
      const n = await db('webhook_endpoints').where({ id: endpointId, enabled: true })
        .where('failing_since', '<=', db.raw('now() - make_interval(secs => ?)', [disableAfterSeconds]))
        .update({ enabled: false, disabled_at: db.fn.now(), disabled_reason: reason, updated_at: db.fn.now() });
      return n > 0;
    },

    // ── what operators see and do ──
    /** Failed messages of an endpoint back to pending, from now, in their original order. */
    replayFailed(endpointId: string, since: Date | undefined, db: Queryable = knex): Promise<number> {
      const q = db('webhook_messages').where({ endpoint_id: endpointId, status: 'failed' });
      if (since) q.where('created_at', '>=', since);
      return q.update({ status: 'pending', attempts: 0, next_attempt_at: db.fn.now(), last_error: null });
    },
    async deliveries(endpointId: string, page: { limit: number; offset: number }, db: Queryable = knex): Promise<{ total: number; deliveries: DeliveryRow[] }> {
      const [{ n }] = await db('webhook_attempts').where({ endpoint_id: endpointId }).count({ n: '*' }) as Array<{ n: string }>;
      const deliveries = await db('webhook_attempts as a').join('webhook_messages as m', 'm.id', 'a.message_id')
        .where('a.endpoint_id', endpointId).orderBy('a.id', 'desc').limit(page.limit).offset(page.offset)
        .select('a.*', 'm.event_type', 'm.status as message_status') as DeliveryRow[];
      return { total: Number(n), deliveries };
    },
    async messages(endpointId: string, page: { limit: number; offset: number; status?: MessageStatus }, db: Queryable = knex): Promise<{ total: number; messages: MessageRow[] }> {
      const base = db<MessageRow>('webhook_messages').where({ endpoint_id: endpointId });
      if (page.status) base.where({ status: page.status });
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), messages: await base.orderBy('seq', 'desc').limit(page.limit).offset(page.offset) };
    },
    findMessage(id: string, db: Queryable = knex): Promise<MessageRow | undefined> {
      return db<MessageRow>('webhook_messages').where({ id }).first();
    },

    /** Counts by status and the oldest open message's creation time (metrics). */
    async stats(db: Queryable = knex): Promise<{ counts: Record<MessageStatus, number>; oldestOpen: Date | null }> {
      const rows = await db('webhook_messages').select('status').count({ n: '*' }).groupBy('status') as Array<{ status: MessageStatus; n: string }>;
      const counts = { pending: 0, delivering: 0, delivered: 0, failed: 0 };
      for (const r of rows) counts[r.status] = Number(r.n);
      const oldest = await db('webhook_messages').whereIn('status', ['pending', 'delivering']).min({ at: 'created_at' }).first() as { at: Date | null } | undefined;
      return { counts, oldestOpen: oldest?.at ? new Date(oldest.at) : null };
    },

    /** Deletes delivered and failed messages (their attempts with them) and attempts older than `days`. */
    async prune(days: number, db: Queryable = knex): Promise<number> {
      const cutoff = db.raw('now() - make_interval(days => ?)', [days]);
      const attempts = await db('webhook_attempts').where('at', '<', cutoff).delete();
      const messages = await db('webhook_messages').whereIn('status', ['delivered', 'failed']).where('created_at', '<', cutoff).delete();
      return Number(attempts) + Number(messages);
    },
  };
}
export type WebhookRepo = ReturnType<typeof createWebhookRepo>;
