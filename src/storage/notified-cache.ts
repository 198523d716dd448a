// A per-node cache of rows whose changes Postgres announces (a trigger NOTIFYs, src/storage/pg-listen.ts
// hears it and calls invalidate). Bounded in size; an entry is served for at most `ttlMs` after it
// was read, which bounds staleness if a notification is lost. A load that was under way when its
// key was invalidated is returned to its callers but not kept: it may have read the row just
// before the change, and keeping it would outlive the notification that announced the change.
export interface NotifiedCache<V> {
  get(key: string): Promise<V>;
  /** one key, or everything (the listener reconnected: notifications may have been lost) */
  invalidate(key?: string): void;
}

export interface NotifiedCacheOptions<V> {
  ttlMs: number;
  max: number;
  /** which loaded values to keep (default: all); the others are returned but read again next time */
  keep?: (value: V) => boolean;
}

export function createNotifiedCache<V>(load: (key: string) => Promise<V>, opts: NotifiedCacheOptions<V>): NotifiedCache<V> {
  const entries = new Map<string, { value: V; readAt: number }>();
  const loading = new Map<string, Promise<V>>(); // concurrent misses of one key share one query

  async function fill(key: string): Promise<V> {
    const readAt = Date.now();
    const pending = load(key);
    loading.set(key, pending);
    try {
      const value = await pending;
      if (loading.get(key) === pending && (opts.keep?.(value) ?? true)) { // not invalidated meanwhile
        entries.delete(key);
        if (entries.size >= opts.max) entries.delete(entries.keys().next().value!); // least recently loaded
        entries.set(key, { value, readAt });
      }
      return value;
    } finally {
      if (loading.get(key) === pending) loading.delete(key);
    }
  }

  return {
    async get(key) {
      const hit = entries.get(key);
      if (hit && Date.now() - hit.readAt < opts.ttlMs) return hit.value;
      return loading.get(key) ?? fill(key);
    },
    invalidate(key) {
      if (key === undefined) {
        entries.clear();
        loading.clear();
      } else {
        entries.delete(key);
        loading.delete(key);
      }
    },
  };
}
