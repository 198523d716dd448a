// The provider's short-lived records in a SQL table, for the embedded default (no REDIS_URL).
// Consumption is one conditional UPDATE, so of N parallel redemptions exactly one wins.
import type { Knex } from 'knex';
import type { Adapter, AdapterFactory, Payload } from '../../storage/short-lived-store.ts';
import { ACCOUNT_INDEXED, lostConsumeRace, ROTATION_SETTLE_MS, RotationPendingError } from './redemption.ts';
import { rotationOwner } from './rotation.ts';

const TABLE = 'oidc_records';
/**
 * A refresh token's pending consumption (ROTATION_SETTLE_MS): until when, in ms on the database's
 * clock, kept in the payload (no column of its own) and never shown to the provider.
 */
const PENDING = 'ghPendingUntil';
/** Who it is pending for: the consuming request's owner nonce, which alone may settle or release it. */
const OWNER = 'ghPendingOwner';
const NOW_MS = 'floor(extract(epoch from now()) * 1000)::bigint';

interface Row {
  payload: Payload;
  expires_at: Date | null;
  consumed_at: Date | null;
}

function decode(row: Row | undefined): Payload | undefined {
  if (!row) return undefined;
  if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return undefined;
  const { [PENDING]: pending, [OWNER]: _owner, ...payload } = row.payload;
  // a pending consumption is not a use yet: consume() decides what it means
  if (row.consumed_at && pending === undefined) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

export function createSqlAdapterFactory(knex: Knex): AdapterFactory {
  const factory = (model: string): Adapter => {
    const select = () => knex(TABLE).select('payload', 'expires_at', 'consumed_at').where('model', model);
    const adapter: Adapter = {
      async upsert(id, payload, expiresIn) {
        const row = {
          model,
          id,
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          user_code: payload.userCode ?? null,
          uid: payload.uid ?? null,
          account_id: ACCOUNT_INDEXED.has(model) ? (payload.accountId ?? null) : null,
          expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
          consumed_at: null,
        };
        await knex(TABLE).insert(row).onConflict(['model', 'id']).merge();
      },
      async find(id) { return decode(await select().andWhere('id', id).first()); },
      async findByUid(uid) { return decode(await select().andWhere('uid', uid).first()); },
      async findByUserCode(userCode) { return decode(await select().andWhere('user_code', userCode).first()); },
      async consume(id) {
        const live = (q: Knex.QueryBuilder) => q.where({ model, id }).andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', knex.fn.now()));
        let won: number;
        if (model === 'RefreshToken') {
          // pending until settled; a pending one past its time was never settled (the rotation failed): take it over
          won = await live(knex(TABLE))
            .andWhere((q) => q.whereNull('consumed_at').orWhereRaw(`(payload->>'${PENDING}')::bigint <= ${NOW_MS}`))
            .update({
              consumed_at: knex.fn.now(),
              payload: knex.raw(`payload || jsonb_build_object('${PENDING}', ${NOW_MS} + ?::bigint, '${OWNER}', ?::text)`, [ROTATION_SETTLE_MS, rotationOwner()]),
            });
        } else {
          won = await live(knex(TABLE)).whereNull('consumed_at').update({ consumed_at: knex.fn.now() });
        }
        if (won === 1) return;
        const existing = await knex(TABLE).select('grant_id', knex.raw(`payload->>'${PENDING}' is not null as pending`)).where({ model, id }).first();
        if (existing?.pending) throw new RotationPendingError('postgres');
        await lostConsumeRace(adapter, model, existing?.grant_id ?? undefined);
      },
      async destroy(id) { await knex(TABLE).where({ model, id }).delete(); },
      async revokeByGrantId(grantId) { await knex(TABLE).where({ grant_id: grantId }).delete(); },
    };
    return adapter;
  };

  return Object.assign(factory, {
    async listAccount(accountId: string, model: 'Session' | 'Grant') {
      const rows = await knex(TABLE).select('id', 'payload', 'expires_at', 'consumed_at').where({ account_id: accountId, model });
      return rows.map((r) => ({ id: r.id as string, payload: decode(r)! })).filter((r) => r.payload);
    },
    async revokeAccount(accountId: string) {
      await knex.transaction(async (trx) => {
        const grants = await trx(TABLE).where({ model: 'Grant', account_id: accountId }).pluck('id');
        if (grants.length) await trx(TABLE).whereIn('grant_id', grants).delete();
        await trx(TABLE).where({ account_id: accountId }).delete();
      });
    },
    backend: 'postgres' as const,
    // compare-and-set on the owner: one conditional UPDATE, so a request whose mark was taken over
    // (its row re-marked by another's consume) changes nothing
    async settleRotation(refreshTokenId: string, owner: string) {
      const settled = await knex(TABLE).where({ model: 'RefreshToken', id: refreshTokenId }).andWhereRaw(`payload->>'${OWNER}' = ?`, [owner])
        .update({ payload: knex.raw('payload - ?::text - ?::text', [PENDING, OWNER]) });
      return settled === 1;
    },
    async releaseRotation(refreshTokenId: string, owner: string) {
      await knex(TABLE).where({ model: 'RefreshToken', id: refreshTokenId }).andWhereRaw(`payload->>'${OWNER}' = ?`, [owner])
        .update({ consumed_at: null, payload: knex.raw('payload - ?::text - ?::text', [PENDING, OWNER]) });
    },
  });
}

/** Expired records are invisible to find(); this reclaims their space. */
export async function pruneExpired(knex: Knex): Promise<number> {
  return knex(TABLE).where('expires_at', '<=', knex.fn.now()).delete();
}
