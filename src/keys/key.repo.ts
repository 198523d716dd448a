import type { Knex } from 'knex';
import type { Queryable, Tx } from '../storage/transactions.ts';

export interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  private_jwk_encrypted: string;
  created_at: Date;
  activates_at: Date;
  /** when it stops signing: in the future while its successor is pending */
  retired_at: Date | null;
  /** when it leaves the JWKS: the last token it signed has expired */
  expires_at: Date | null;
}
export type KeyTimes = Pick<KeyRow, 'kid' | 'activates_at' | 'retired_at' | 'expires_at'>;

const published = (now: Date) => (q: Knex.QueryBuilder) => q.whereNull('expires_at').orWhere('expires_at', '>', now);
/** Keys of one algorithm that sign at `now`, or will until a pending successor takes over. */
const signing = (alg: string, now: Date) => (q: Knex.QueryBuilder) => q.where({ alg }).where('activates_at', '<=', now)
  .where((r) => r.whereNull('retired_at').orWhere('retired_at', '>', now));
const pending = (alg: string, now: Date) => (q: Knex.QueryBuilder) => q.where({ alg }).whereNull('retired_at').where('activates_at', '>', now);

/** Serialises key-set changes across nodes (a transaction-scoped advisory lock). */
const KEYS_LOCK_ID = 0x6761_7465;

export function createKeyRepo(knex: Knex) {
  return {
    /** Holds the key-set lock until `tx` ends: two rotations at once must not leave two signers per algorithm. */
    async lock(tx: Tx): Promise<void> {
      await tx.raw('select pg_advisory_xact_lock(?)', [KEYS_LOCK_ID]);
    },
    /**
     * The database's clock: the one clock every node shares. Key times are written and compared
     * by it, so a node whose own clock runs fast or slow still switches keys when the others do.
     * clock_timestamp(), not now(): inside a transaction that waited for the keys' lock, the moment
     * of reading, not the transaction's start.
     */
    async now(trx: Queryable = knex): Promise<Date> {
      const row = await trx.select(trx.raw('clock_timestamp() as now')).first() as { now: Date | string };
      return new Date(row.now);
    },
    /** Keys still published: not past their expiry. Newest first. */
    async listPublished(now: Date): Promise<KeyRow[]> {
      return knex<KeyRow>('signing_keys').where(published(now))
        .orderBy('activates_at', 'desc').orderBy('created_at', 'desc');
    },
    /** The same keys, timestamps only: for the cheap change check every node runs. */
    async listPublishedTimes(now: Date): Promise<KeyTimes[]> {
      return knex('signing_keys').select('kid', 'activates_at', 'retired_at', 'expires_at').where(published(now)).orderBy('kid');
    },
    async listAll(): Promise<KeyRow[]> {
      return knex<KeyRow>('signing_keys').orderBy('created_at', 'desc');
    },
    /** Algorithms with a key that signs now or is pending (not retired, nor due to be). */
    async algsWithSigner(now: Date, trx: Queryable = knex): Promise<string[]> {
      const rows = await trx('signing_keys').distinct('alg').where((q) => q.whereNull('retired_at').orWhere('retired_at', '>', now));
      return rows.map((r: { alg: string }) => r.alg);
    },
    async find(kid: string, trx: Queryable = knex): Promise<KeyRow | undefined> {
      return trx<KeyRow>('signing_keys').where({ kid }).first();
    },
    async insert(row: Omit<KeyRow, 'created_at' | 'retired_at' | 'expires_at'>, trx: Queryable = knex): Promise<void> {
      await trx('signing_keys').insert(row);
    },
    /** The current signer of `alg` stops signing at `retiresAt` and leaves the JWKS at `expiresAt`. */
    async scheduleRetirement(alg: string, now: Date, retiresAt: Date, expiresAt: Date, trx: Queryable = knex): Promise<number> {
      return trx('signing_keys').where(signing(alg, now)).update({ retired_at: retiresAt, expires_at: expiresAt });
    },
    /** The current signer of `alg` keeps signing (its successor was withdrawn). */
    async cancelRetirement(alg: string, now: Date, trx: Queryable = knex): Promise<number> {
      return trx('signing_keys').where({ alg }).where('retired_at', '>', now).update({ retired_at: null, expires_at: null });
    },
    /** Pending keys of `alg` never signed anything: a newer rotation or a revocation drops them. */
    async deletePending(alg: string, now: Date, trx: Queryable = knex): Promise<number> {
      return trx('signing_keys').where(pending(alg, now)).delete();
    },
    async countPending(alg: string, now: Date, trx: Queryable = knex): Promise<number> {
      const [row] = await trx('signing_keys').where(pending(alg, now)).count<Array<{ count: string | number }>>('* as count');
      return Number(row?.count ?? 0);
    },
    async delete(kid: string, trx: Queryable = knex): Promise<number> {
      return trx('signing_keys').where({ kid }).delete();
    },
    async deleteExpired(now: Date): Promise<number> {
      return knex('signing_keys').whereNotNull('expires_at').where('expires_at', '<=', now).delete();
    },
  };
}
export type KeyRepo = ReturnType<typeof createKeyRepo>;
