// What workspace claims are made of — a user's memberships (workspace id, slug, name, role) and
// their stored active workspace — kept per node, so refresh and userinfo with the `workspace` or
// `workspaces` scope send no SQL. Same bounds as the account cache (GATEHOUSE_ACCOUNT_CACHE_SECONDS,
// same size), and the same channel: triggers NOTIFY gatehouse_account_changed with the user's id when
// their row (the active workspace), one of their memberships, or a workspace they are in changes
// (migrations/20261124040000_workspace_change_notify.ts). The service also drops its own changes at
// once, so the node that made a change never waits for the notification.
import { createNotifiedCache } from '../storage/notified-cache.ts';
import type { UserMembership } from './workspace.repo.ts';

export interface UserMemberships { activeId: string | null; memberships: UserMembership[] }

export interface MembershipCache {
  membershipsOf(userId: string): Promise<UserMemberships>;
  invalidate(userId?: string): void;
}

const MEMBERSHIP_CACHE_MAX = 10_000;

/** Frozen: one cached value is handed to every request until it is dropped. */
function frozen(value: UserMemberships): UserMemberships {
  for (const m of value.memberships) Object.freeze(m);
  Object.freeze(value.memberships);
  return Object.freeze(value);
}

/** `ttlMs`: how stale cached memberships may be if a change notification is lost. */
export function createMembershipCache(load: (userId: string) => Promise<UserMemberships>, ttlMs: number): MembershipCache {
  const cache = createNotifiedCache(async (userId) => frozen(await load(userId)), { ttlMs, max: MEMBERSHIP_CACHE_MAX });
  return { membershipsOf: cache.get, invalidate: cache.invalidate };
}

/** No cache (the embedded default, where nothing notifies): every call reads the store. */
export function noMembershipCache(load: (userId: string) => Promise<UserMemberships>): MembershipCache {
  return { membershipsOf: load, invalidate() {} };
}
