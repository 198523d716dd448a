// Accounts for the token hot path (findAccount: refresh, userinfo) without a Postgres query per
// request. Bounded staleness: an entry lives at most GATEHOUSE_ACCOUNT_CACHE_SECONDS, and every node drops it
// at once when the row changes (a trigger NOTIFYs gatehouse_account_changed; see the migration).
// Disabling an account also ends its grants, so a stale entry cannot mint tokens meanwhile.
import type { UserRow } from './account.repo.ts';
import { createNotifiedCache } from '../storage/notified-cache.ts';

/** Payload: a user id. Sent when the user's row, their memberships or a workspace they are in changes. */
export const ACCOUNT_CACHE_CHANNEL = 'gatehouse_account_changed';
const ACCOUNT_CACHE_MAX = 10_000;

export interface AccountCache {
  findActive(id: string): Promise<UserRow | undefined>;
  invalidate(id?: string): void;
}

/** `ttlMs`: how stale a cached account may be if a change notification is lost. */
export function createAccountCache(load: (id: string) => Promise<UserRow | undefined>, ttlMs: number): AccountCache {
  const cache = createNotifiedCache(load, { ttlMs, max: ACCOUNT_CACHE_MAX });
  return { findActive: cache.get, invalidate: cache.invalidate };
}

/** No cache (the embedded default, where nothing notifies): every call reads the store. */
export function noAccountCache(load: (id: string) => Promise<UserRow | undefined>): AccountCache {
  return { findActive: load, invalidate() {} };
}
