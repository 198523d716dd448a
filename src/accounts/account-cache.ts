// Accounts for the token hot path (findAccount: refresh, userinfo) without a Postgres query per
// request. Bounded staleness: an entry lives at most GATEHOUSE_ACCOUNT_CACHE_SECONDS, and every node drops it
// at once when the row changes (a trigger NOTIFYs gatehouse_account_changed; see the migration).
// Disabling an account also ends its grants, so a stale entry cannot mint tokens meanwhile.
import type { UserRow } from './account.repo.ts';

export const ACCOUNT_CACHE_CHANNEL = 'gatehouse_account_changed';
const ACCOUNT_CACHE_MAX = 10_000;

export interface AccountCache {
  findActive(id: string): Promise<UserRow | undefined>;
  invalidate(id?: string): void;
}

/** `ttlMs`: how stale a cached account may be if a change notification is lost. */
export function createAccountCache(load: (id: string) => Promise<UserRow | undefined>, ttlMs: number): AccountCache {
  const entries = new Map<string, { row: UserRow | undefined; at: number }>();
  return {
    async findActive(id) {
      const hit = entries.get(id);
      if (hit && Date.now() - hit.at < ttlMs) return hit.row;
      const row = await load(id);
      if (entries.size >= ACCOUNT_CACHE_MAX) entries.delete(entries.keys().next().value!); // oldest first
      entries.set(id, { row, at: Date.now() });
      return row;
    },
    invalidate(id) {
      if (id === undefined) entries.clear(); else entries.delete(id);
    },
  };
}

/** No cache (the embedded default, where nothing notifies): every call reads the store. */
export function noAccountCache(load: (id: string) => Promise<UserRow | undefined>): AccountCache {
  return { findActive: load, invalidate() {} };
}
