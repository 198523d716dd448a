// Audit retention: events older than GATEHOUSE_AUDIT_RETENTION_DAYS are pruned (0 keeps them all).
// Pruning is the only delete the audit table ever sees.
import type { Knex } from 'knex';

export async function pruneAudit(knex: Knex, days: number): Promise<number> {
  if (days <= 0) return 0;
  return knex('audit_events').where('at', '<', new Date(Date.now() - days * 86_400_000)).delete();
}
