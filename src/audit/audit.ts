// The audit trail: append-only rows, written in the same transaction as the change they record
// (pass the transaction). Secrets never go in `data`. Sinks see every recorded event in that same
// transaction too (the webhook outbox is one): a change that rolls back leaves neither a row nor
// anything a sink wrote.
import type { Context } from 'koa';
import type { Queryable } from '../storage/transactions.ts';
import type { AuditRepo } from './audit.repo.ts';

export interface AuditEvent {
  type: string;
  actorId?: string | null;
  subjectId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: Record<string, unknown>;
}

/**
 * Something else that must happen in the transaction of every audited change (e.g. the webhook
 * outbox). `tx` is the change's transaction, or the database itself when the caller gave none.
 */
export type AuditSink = (events: readonly AuditEvent[], tx: Queryable | undefined) => Promise<void>;

/** Who and where, from a request. */
export function requestOrigin(ctx: Context): Pick<AuditEvent, 'ip' | 'userAgent'> {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent').slice(0, 512) || null };
}

const rowOf = (event: AuditEvent) => ({
  type: event.type,
  actor_id: event.actorId ?? null,
  subject_id: event.subjectId ?? null,
  client_id: event.clientId ?? null,
  ip: event.ip ?? null,
  user_agent: event.userAgent ?? null,
  data: JSON.stringify(event.data ?? {}),
});

export function createAudit(repo: Pick<AuditRepo, 'insert' | 'insertMany'>, sinks: readonly AuditSink[] = []) {
  const sink = async (events: readonly AuditEvent[], tx?: Queryable) => {
    for (const s of sinks) await s(events, tx);
  };
  return {
    /** `tx`: the transaction of the change this event records. */
    async record(event: AuditEvent, tx?: Queryable): Promise<void> {
      await repo.insert(rowOf(event), tx);
      await sink([event], tx);
    },
    /** Many events of one change (a bulk import): batched inserts, same transaction rules. */
    async recordMany(events: readonly AuditEvent[], tx?: Queryable): Promise<void> {
      if (events.length === 0) return;
      await repo.insertMany(events.map(rowOf), tx);
      await sink(events, tx);
    },
  };
}
export type Audit = ReturnType<typeof createAudit>;
