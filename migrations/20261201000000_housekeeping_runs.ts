// Why: every node schedules the cluster's housekeeping (audit retention, expired records), and one
// should run each job per period. Under a transaction advisory lock a node reads when the job last
// ran (by the database's clock) and skips it if another node has run it within the period.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('housekeeping_runs', (t) => {
    t.text('job').primary();
    t.timestamp('last_run_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('housekeeping_runs');
}
