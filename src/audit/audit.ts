// The audit trail: append-only rows, written in the same transaction as the change they record
// (pass the transaction). Secrets never go in `data`.
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

/** Who and where, from a request. */
export function requestOrigin(ctx: Context): Pick<AuditEvent, 'ip' | 'userAgent'> {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent').slice(0, 512) || null };
}

export function createAudit(repo: Pick<AuditRepo, 'insert'>) {
  return {
    /** `tx`: the transaction of the change this event records. */
    async record(event: AuditEvent, tx?: Queryable): Promise<void> {
      await repo.insert({
        type: event.type,
        actor_id: event.actorId ?? null,
        subject_id: event.subjectId ?? null,
        client_id: event.clientId ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent ?? null,
        data: JSON.stringify(event.data ?? {}),
      }, tx);
    },
  };
}
export type Audit = ReturnType<typeof createAudit>;
