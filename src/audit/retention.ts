// Audit retention: events older than GATEHOUSE_AUDIT_RETENTION_DAYS are pruned (0 keeps them all).
// Pruning is the only delete the audit table ever sees. The cut-off is the database's clock, so it
// does not depend on which node runs the job (src/storage/housekeeping.ts runs it once per cluster).
import type { Knex } from 'knex';

export async function pruneAudit(knex: Knex, days: number): Promise<number> {
  if (days <= 0) return 0;
  return knex('audit_events').where('at', '<', knex.raw('now() - make_interval(days => ?)', [days])).delete();
}
