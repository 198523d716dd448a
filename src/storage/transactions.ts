// The one way a service groups repository calls into a transaction without touching the database
// itself: services hold a `Transactions` and pass the opaque `Tx` to repositories, which are the
// only code that runs SQL (see docs/architecture.md).
import type { Knex } from 'knex';

/** An open transaction, handed from a service to the repositories it calls. */
export type Tx = Knex.Transaction;

/** What a repository queries: the database itself, or an open transaction. */
export type Queryable = Knex | Knex.Transaction;

export interface Transactions {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function createTransactions(knex: Knex): Transactions {
  return { run: (work) => knex.transaction(work) };
}
