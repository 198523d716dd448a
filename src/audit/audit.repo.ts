// audit_events: appended in the same transaction as the change they record, read by the admin
// API and console and the user's own account page, pruned by retention (the only delete).
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export interface AuditRow {
  id: string;
  at: Date;
  type: string;
  actor_id: string | null;
  subject_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  data: Record<string, unknown>;
}

/** Rows per INSERT: 7 columns each, well under Postgres's bind-parameter limit. */
const INSERT_BATCH = 1000;

export interface AuditFilter { actor?: string; subject?: string; type?: string; since?: Date; until?: Date }

export function createAuditRepo(knex: Knex) {
  return {
    async insert(row: Omit<AuditRow, 'id' | 'at' | 'data'> & { data: string }, db: Queryable = knex): Promise<void> {
      await db('audit_events').insert(row);
    },
    /** Rows in batches (one statement per batch, under Postgres's 65,535 bind parameters). */
    async insertMany(rows: Array<Omit<AuditRow, 'id' | 'at' | 'data'> & { data: string }>, db: Queryable = knex): Promise<void> {
      for (let i = 0; i < rows.length; i += INSERT_BATCH) await db('audit_events').insert(rows.slice(i, i + INSERT_BATCH));
    },
    /** Events, newest first, filtered and a page at a time. */
    async search(f: AuditFilter & { limit: number; offset: number }): Promise<{ total: number; events: AuditRow[] }> {
      const base = knex<AuditRow>('audit_events');
      if (f.actor) base.where('actor_id', f.actor);
      if (f.subject) base.where('subject_id', f.subject);
      if (f.type) base.where('type', f.type);
      if (f.since) base.where('at', '>=', f.since);
      if (f.until) base.where('at', '<', f.until);
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), events: await base.orderBy('id', 'desc').limit(f.limit).offset(f.offset) };
    },
    /** The newest events of one type about one subject (e.g. the impersonations of a user). */
    latestAbout(subjectId: string, type: string, limit: number): Promise<AuditRow[]> {
      return knex<AuditRow>('audit_events').where({ type, subject_id: subjectId }).orderBy('at', 'desc').limit(limit);
    },
    /** Deletes events older than `days` days by the database's clock; how many went. */
    pruneOlderThan(days: number, db: Queryable = knex): Promise<number> {
      return db('audit_events').where('at', '<', db.raw('now() - make_interval(days => ?)', [days])).delete();
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
