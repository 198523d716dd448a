// Tells every node that a client changed, so cached clients (src/oidc/adapters/client-adapter.ts) are
// dropped at once instead of when their TTL runs out.
//
// The message travels over Postgres LISTEN/NOTIFY rather than Redis: clients change where Postgres
// is written, and the operator CLI writes Postgres directly, without a Redis connection. In the
// embedded default every change happens inside the server process (the CLI goes through its
// control socket), so telling this process is enough.
import type { ClientRepo } from './client.repo.ts';
import { CLIENT_CHANGED_CHANNEL } from './client.repo.ts';
import { listenChannel } from '../storage/pg-listen.ts';
import type { Logger } from 'pino';

/** A client id, or undefined for "anything may have changed" (after a missed-message window). */
export type ClientChangeListener = (clientId: string | undefined) => void;

export interface ClientChangeFeed {
  /** ClientService's onChange: this process at once, and every other node through Postgres. */
  publish(clientId: string): void;
  subscribe(fn: ClientChangeListener): () => void;
  /** Delivers to this process's subscribers only (the Postgres listener calls it). */
  deliver(clientId: string | undefined): void;
}

export function createClientChangeFeed(repo: Pick<ClientRepo, 'notifyChanged'>, kind: 'postgres' | 'embedded'): ClientChangeFeed {
  const listeners = new Set<ClientChangeListener>();
  const feed: ClientChangeFeed = {
    publish(clientId) {
      feed.deliver(clientId);
      if (kind === 'postgres') {
        // Best effort: a node that misses it still drops the client within the cache TTL.
        repo.notifyChanged(clientId).catch(() => {});
      }
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => { listeners.delete(fn); };
    },
    deliver(clientId) {
      for (const fn of listeners) fn(clientId);
    },
  };
  return feed;
}

/** Every node listens, so a client changed anywhere is dropped from every cache at once. */
export function listenForClientChanges(databaseUrl: string, feed: ClientChangeFeed, log: Logger): { stop(): Promise<void> } {
  return listenChannel(databaseUrl, CLIENT_CHANGED_CHANNEL, { onPayload: (id) => feed.deliver(id), onGap: () => feed.deliver(undefined) }, log);
}
