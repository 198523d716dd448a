// Cluster-wide housekeeping (audit retention, expired records): every node schedules each job, and
// one node runs it per period. In one transaction a node takes a transaction-scoped advisory lock
// for the job without waiting (pg_try_advisory_xact_lock: a node that finds it taken skips, it does
// not queue up behind), reads when the job last ran, by the database's clock, and runs it only
// when the period has passed. The lock is released with the transaction, also when a node dies,
// and needs no session state, so it works through a pooler in transaction mode.
// The embedded database has one process, so there the job simply runs.
import type { Knex } from 'knex';

/** pg_try_advisory_xact_lock(class, job): the class for housekeeping ("ghhk"). */
const HOUSEKEEPING_LOCK_CLASS = 0x6768_686b;

/** Timers on different nodes drift by a little; a run this much early still counts as due. */
const SCHEDULE_SLACK_MS = 10_000;

/** Each job's lock number; a new job takes the next. */
export const HOUSEKEEPING_JOBS = { auditRetention: 1, expiredRecords: 2, webhookRetention: 3 } as const;
export type HousekeepingJob = keyof typeof HOUSEKEEPING_JOBS;

export type HousekeepingOutcome<T> = { ran: true; result: T } | { ran: false; reason: 'another node is running it' | 'ran recently' };

const isPostgres = (knex: Knex) => (knex.client.config as { client?: unknown }).client === 'pg';

/**
 * Runs `work` inside the job's transaction unless another node is running it or ran it less than
 * `periodMs` ago. A tolerance of a few seconds under the period lets a node whose timer fires a
 * little early still take its turn.
 */
export async function runHousekeeping<T>(knex: Knex, job: HousekeepingJob, periodMs: number, work: (trx: Knex) => Promise<T>): Promise<HousekeepingOutcome<T>> {
  if (!isPostgres(knex)) return { ran: true, result: await work(knex) };
  return knex.transaction(async (trx) => {
    const { rows } = await trx.raw('select pg_try_advisory_xact_lock(?, ?) as locked', [HOUSEKEEPING_LOCK_CLASS, HOUSEKEEPING_JOBS[job]]);
    if (!rows[0]?.locked) return { ran: false, reason: 'another node is running it' } as const;
    const recent = await trx('housekeeping_runs').where({ job })
      .whereRaw('last_run_at > now() - ?::interval', [`${Math.max(0, periodMs - SCHEDULE_SLACK_MS)} milliseconds`]).first();
    if (recent) return { ran: false, reason: 'ran recently' } as const;
    const result = await work(trx);
    await trx('housekeeping_runs').insert({ job, last_run_at: trx.fn.now() }).onConflict('job').merge();
    return { ran: true, result } as const;
  });
}
