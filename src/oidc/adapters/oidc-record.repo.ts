// oidc_records: the provider's short-lived records in SQL (the embedded default, no REDIS_URL) — the
// only SQL behind src/oidc/adapters/sql-adapter.ts, which maps each adapter method to one call here.
// A record is a jsonb payload plus expires_at and consumed_at, indexed by grant, uid, user code and
// account. Consumption is one conditional UPDATE, so of N parallel redemptions exactly one wins.
import type { Knex } from 'knex';
import type { Payload } from '../../storage/short-lived-store.ts';
import type { Queryable } from '../../storage/transactions.ts';

const TABLE = 'oidc_records';
/**
 * A refresh token's pending consumption (ROTATION_SETTLE_MS): until when, in ms on the database's
 * clock, kept in the payload (no column of its own) and never shown to the provider.
 */
export const PENDING = 'ghPendingUntil';
/** Who it is pending for: the consuming request's owner nonce, which alone may settle or release it. */
export const OWNER = 'ghPendingOwner';
const NOW_MS = 'floor(extract(epoch from now()) * 1000)::bigint';

export interface OidcRecordRow {
  payload: Payload;
  expires_at: Date | null;
  consumed_at: Date | null;
}

export interface OidcRecordInsert {
  model: string; id: string; payload: Payload;
  grant_id: string | null; user_code: string | null; uid: string | null; account_id: string | null;
  expires_at: Date | null;
}

/** A lost consume: whether the record is pending another request's rotation, and its grant. */
export type ConsumeOutcome = { won: true } | { won: false; pending: boolean; grantId: string | undefined };

export function createOidcRecordRepo(knex: Knex) {
  const select = (model: string) => knex(TABLE).select('payload', 'expires_at', 'consumed_at').where('model', model);
  const live = (q: Knex.QueryBuilder, model: string, id: string) =>
    q.where({ model, id }).andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', knex.fn.now()));

  return {
    /** Writes the record afresh (not consumed). */
    async upsert(row: OidcRecordInsert): Promise<void> {
      await knex(TABLE).insert({ ...row, payload: JSON.stringify(row.payload), consumed_at: null }).onConflict(['model', 'id']).merge();
    },
    /** The record by its id, uid or user code, expired or not (the adapter hides expired ones). */
    findBy: (model: string, column: 'id' | 'uid' | 'user_code', value: string): Promise<OidcRecordRow | undefined> =>
      select(model).andWhere(column, value).first(),

    /**
     * Marks a live record consumed unless it already is. With `rotation` (a refresh token), the
     * consumption is pending until settled; a pending one past its time was never settled (the
     * rotation failed) and is taken over.
     */
    async consume(model: string, id: string, rotation?: { settleMs: number; owner: string }): Promise<ConsumeOutcome> {
      const won = rotation
        ? await live(knex(TABLE), model, id)
          .andWhere((q) => q.whereNull('consumed_at').orWhereRaw(`(payload->>'${PENDING}')::bigint <= ${NOW_MS}`))
          .update({
            consumed_at: knex.fn.now(),
            payload: knex.raw(`payload || jsonb_build_object('${PENDING}', ${NOW_MS} + ?::bigint, '${OWNER}', ?::text)`, [rotation.settleMs, rotation.owner]),
          })
        : await live(knex(TABLE), model, id).whereNull('consumed_at').update({ consumed_at: knex.fn.now() });
      if (won === 1) return { won: true };
      const existing = await knex(TABLE).select('grant_id', knex.raw(`payload->>'${PENDING}' is not null as pending`)).where({ model, id }).first();
      return { won: false, pending: !!existing?.pending, grantId: existing?.grant_id ?? undefined };
    },

    async destroy(model: string, id: string): Promise<void> { await knex(TABLE).where({ model, id }).delete(); },
    async deleteGrant(grantId: string): Promise<void> { await knex(TABLE).where({ grant_id: grantId }).delete(); },

    listAccount: (accountId: string, model: string): Promise<Array<OidcRecordRow & { id: string }>> =>
      knex(TABLE).select('id', 'payload', 'expires_at', 'consumed_at').where({ account_id: accountId, model }),

    /** Everything of an account: its grants' records, then its own (sessions, grants), in one transaction. */
    async deleteAccount(accountId: string): Promise<void> {
      await knex.transaction(async (trx) => {
        const grants = await trx(TABLE).where({ model: 'Grant', account_id: accountId }).pluck('id');
        if (grants.length) await trx(TABLE).whereIn('grant_id', grants).delete();
        await trx(TABLE).where({ account_id: accountId }).delete();
      });
    },

    // compare-and-set on the owner: one conditional UPDATE, so a request whose mark was taken over
    // (its row re-marked by another's consume) changes nothing
    async settleRotation(refreshTokenId: string, owner: string): Promise<boolean> {
      const settled = await knex(TABLE).where({ model: 'RefreshToken', id: refreshTokenId }).andWhereRaw(`payload->>'${OWNER}' = ?`, [owner])
        .update({ payload: knex.raw('payload - ?::text - ?::text', [PENDING, OWNER]) });
      return settled === 1;
    },
    async releaseRotation(refreshTokenId: string, owner: string): Promise<void> {
      await knex(TABLE).where({ model: 'RefreshToken', id: refreshTokenId }).andWhereRaw(`payload->>'${OWNER}' = ?`, [owner])
        .update({ consumed_at: null, payload: knex.raw('payload - ?::text - ?::text', [PENDING, OWNER]) });
    },
  };
}
export type OidcRecordRepo = ReturnType<typeof createOidcRecordRepo>;

/** Expired records are invisible to find(); this reclaims their space (housekeeping passes its transaction). */
export async function pruneExpired(db: Queryable): Promise<number> {
  return db(TABLE).where('expires_at', '<=', db.fn.now()).delete();
}
