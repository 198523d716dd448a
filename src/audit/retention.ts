// Audit retention: events older than GATEHOUSE_AUDIT_RETENTION_DAYS are pruned (0 keeps them all).
// Pruning is the only delete the audit table ever sees. The cut-off is the database's clock, so it
// does not depend on which node runs the job (src/storage/housekeeping.ts runs it once per cluster).
import type { Queryable } from '../storage/transactions.ts';
import type { AuditRepo } from './audit.repo.ts';

/** `db`: the housekeeping job's transaction (it holds the once-per-cluster lock). */
export async function pruneAudit(repo: Pick<AuditRepo, 'pruneOlderThan'>, days: number, db?: Queryable): Promise<number> {
  if (days <= 0) return 0;
  return repo.pruneOlderThan(days, db);
}
