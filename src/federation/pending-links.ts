// An upstream identity waiting for its owner to prove the local account with the same email (by
// signing in to it: password and second factor, through the hosted sign-in and its limits). Keyed
// by the interaction; linked only to the account it names, by src/federation/upstream-port.ts once
// the sign-in completes.
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { UpstreamProfile } from './upstream-client.ts';
import { FLOW_TTL_SECONDS } from './flow-state.ts';

export interface PendingLink { provider: string; profile: UpstreamProfile; targetUserId: string }

export function createPendingLinks(adapters: AdapterFactory) {
  const store = adapters('UpstreamLink');
  return {
    put: (uid: string, link: PendingLink) => store.upsert(uid, link as never, FLOW_TTL_SECONDS),
    find: async (uid: string) => (await store.find(uid)) as PendingLink | undefined,
    drop: (uid: string) => store.destroy(uid),
  };
}
export type PendingLinks = ReturnType<typeof createPendingLinks>;
