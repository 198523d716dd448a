// The provider's short-lived records in a SQL table, for the embedded default (no REDIS_URL): a thin
// adapter, each method one call to the repository (src/oidc/adapters/oidc-record.repo.ts), which
// holds the SQL. What is left here is the payload's shape as the provider sees it.
import type { Adapter, AdapterFactory, Payload } from '../../storage/short-lived-store.ts';
import { ACCOUNT_INDEXED, lostConsumeRace, ROTATION_SETTLE_MS, RotationPendingError } from './redemption.ts';
import { rotationOwner } from './rotation.ts';
import { OWNER, PENDING, type OidcRecordRepo, type OidcRecordRow } from './oidc-record.repo.ts';

function decode(row: OidcRecordRow | undefined): Payload | undefined {
  if (!row) return undefined;
  if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) return undefined;
  const { [PENDING]: pending, [OWNER]: _owner, ...payload } = row.payload;
  // a pending consumption is not a use yet: consume() decides what it means
  if (row.consumed_at && pending === undefined) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

export function createSqlAdapterFactory(records: OidcRecordRepo): AdapterFactory {
  const factory = (model: string): Adapter => {
    const adapter: Adapter = {
      async upsert(id, payload, expiresIn) {
        await records.upsert({
          model,
          id,
          payload,
          grant_id: payload.grantId ?? null,
          user_code: payload.userCode ?? null,
          uid: payload.uid ?? null,
          account_id: ACCOUNT_INDEXED.has(model) ? (payload.accountId ?? null) : null,
          expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        });
      },
      async find(id) { return decode(await records.findBy(model, 'id', id)); },
      async findByUid(uid) { return decode(await records.findBy(model, 'uid', uid)); },
      async findByUserCode(userCode) { return decode(await records.findBy(model, 'user_code', userCode)); },
      async consume(id) {
        const rotation = model === 'RefreshToken' ? { settleMs: ROTATION_SETTLE_MS, owner: rotationOwner() } : undefined;
        const outcome = await records.consume(model, id, rotation);
        if (outcome.won) return;
        if (outcome.pending) throw new RotationPendingError('postgres');
        await lostConsumeRace(adapter, model, outcome.grantId);
      },
      async destroy(id) { await records.destroy(model, id); },
      async revokeByGrantId(grantId) { await records.deleteGrant(grantId); },
    };
    return adapter;
  };

  return Object.assign(factory, {
    async listAccount(accountId: string, model: 'Session' | 'Grant') {
      const rows = await records.listAccount(accountId, model);
      return rows.map((r) => ({ id: r.id, payload: decode(r)! })).filter((r) => r.payload);
    },
    revokeAccount: (accountId: string) => records.deleteAccount(accountId),
    backend: 'postgres' as const,
    settleRotation: (refreshTokenId: string, owner: string) => records.settleRotation(refreshTokenId, owner),
    releaseRotation: (refreshTokenId: string, owner: string) => records.releaseRotation(refreshTokenId, owner),
  });
}
