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

export interface AuditFilter {
  actor?: string; subject?: string; type?: string; since?: Date; until?: Date;
  /** events of this client (its client_id) */
  client?: string;
  /** events this user did or that were about them, by their normalized email */
  userEmail?: string;
}

/** An event with the names a person reads instead of ids (the console's audit log). */
export interface NamedAuditRow extends AuditRow { actor_email: string | null; subject_email: string | null; client_name: string | null }

/** actor_id and subject_id are text (a subject may be a workspace …): only a uuid can name a user. */
const USER_OF = (column: string) => `case when ${column} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then ${column}::uuid end`;

export function createAuditRepo(knex: Knex) {
  function filtered(f: AuditFilter) {
    const base = knex<AuditRow>('audit_events');
    if (f.actor) base.where('actor_id', f.actor);
    if (f.subject) base.where('subject_id', f.subject);
    if (f.type) base.where('type', f.type);
    if (f.since) base.where('at', '>=', f.since);
    if (f.until) base.where('at', '<', f.until);
    if (f.client) base.where('client_id', f.client);
    if (f.userEmail) {
      const id = knex('users').select(knex.raw('id::text')).where('email_normalized', f.userEmail);
      base.where((w) => { w.whereIn('actor_id', id).orWhereIn('subject_id', id); });
    }
    return base;
  }
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
      const base = filtered(f);
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), events: await base.orderBy('id', 'desc').limit(f.limit).offset(f.offset) };
    },
    /**
     * The same page with the actor's and subject's emails and the client's name: one query (the
     * page first, then its few rows joined by primary key), not one look-up per row.
     */
    async searchNamed(f: AuditFilter & { limit: number; offset: number }): Promise<{ total: number; events: NamedAuditRow[] }> {
      const base = filtered(f);
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      const page = base.clone().select('*').orderBy('id', 'desc').limit(f.limit).offset(f.offset).as('e');
      const events = await knex.from(page)
        .leftJoin('users as a', (j) => { j.on(knex.raw(`a.id = ${USER_OF('e.actor_id')}`)); })
        .leftJoin('users as s', (j) => { j.on(knex.raw(`s.id = ${USER_OF('e.subject_id')}`)); })
        .leftJoin('clients as c', 'c.client_id', 'e.client_id')
        .select('e.*', 'a.email as actor_email', 's.email as subject_email', 'c.name as client_name')
        .orderBy('e.id', 'desc') as NamedAuditRow[];
      return { total: Number(n), events };
    },
    /** Every event type the log holds, sorted (a loose index scan over (type, at): one probe per type). */
    async types(): Promise<string[]> {
      const { rows } = await knex.raw(`with recursive t(type) as (
        select min(type) from audit_events
        union all select (select min(type) from audit_events where type > t.type) from t where t.type is not null
      ) select type from t where type is not null`) as { rows: Array<{ type: string }> };
      return rows.map((r) => r.type);
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
