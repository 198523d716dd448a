// The audit trail: append-only rows, written in the same transaction as the change they record
// (pass the transaction). Secrets never go in `data`.
import type { Knex } from 'knex';
import type { Context } from 'koa';

export interface AuditEvent {
  type: string;
  actorId?: string | null;
  subjectId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: Record<string, unknown>;
}

/** Who and where, from a request. */
export function requestOrigin(ctx: Context): Pick<AuditEvent, 'ip' | 'userAgent'> {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent').slice(0, 512) || null };
}

export function createAudit(knex: Knex) {
  return {
    async record(event: AuditEvent, trx: Knex = knex): Promise<void> {
      await trx('audit_events').insert({
        type: event.type,
        actor_id: event.actorId ?? null,
        subject_id: event.subjectId ?? null,
        client_id: event.clientId ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent ?? null,
        data: JSON.stringify(event.data ?? {}),
      });
    },
  };
}
export type Audit = ReturnType<typeof createAudit>;
