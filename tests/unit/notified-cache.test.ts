// The per-node cache behind accounts and workspace memberships: served until dropped or stale,
// bounded, and never keeping a row read before the change that dropped it.
import { describe, expect, it } from '@jest/globals';
import { createNotifiedCache } from '../../src/storage/notified-cache.ts';

function counter() {
  const reads: string[] = [];
  let version = 0;
  return { reads, bump: () => { version++; }, load: async (key: string) => { reads.push(key); return `${key}@${version}`; } };
}

describe('notified cache', () => {
  it('serves a loaded value until it is invalidated (one key or all)', async () => {
    const store = counter();
    const cache = createNotifiedCache(store.load, { ttlMs: 60_000, max: 10 });
    expect(await cache.get('a')).toBe('a@0');
    expect(await cache.get('b')).toBe('b@0');
    store.bump();
    expect(await cache.get('a')).toBe('a@0');
    cache.invalidate('a');
    expect([await cache.get('a'), await cache.get('b')]).toEqual(['a@1', 'b@0']);
    cache.invalidate();
    expect(await cache.get('b')).toBe('b@1');
    expect(store.reads).toEqual(['a', 'b', 'a', 'b']);
  });

  it('reads again once an entry is older than the TTL', async () => {
    const store = counter();
    const cache = createNotifiedCache(store.load, { ttlMs: 0, max: 10 });
    await cache.get('a');
    await cache.get('a');
    expect(store.reads).toEqual(['a', 'a']);
  });

  it('shares one read between concurrent misses', async () => {
    const store = counter();
    const cache = createNotifiedCache(store.load, { ttlMs: 60_000, max: 10 });
    expect(await Promise.all([cache.get('a'), cache.get('a')])).toEqual(['a@0', 'a@0']);
    expect(store.reads).toEqual(['a']);
  });

  it('does not keep a read that was under way when its key was invalidated', async () => {
    let release!: (v: string) => void;
    const reads: string[] = [];
    const cache = createNotifiedCache((key) => { reads.push(key); return reads.length === 1 ? new Promise<string>((r) => { release = r; }) : Promise.resolve('new'); }, { ttlMs: 60_000, max: 10 });
    const first = cache.get('a');
    cache.invalidate('a'); // the change is announced while the old row is on its way
    release('old');
    expect(await first).toBe('old'); // its caller asked before the change
    expect(await cache.get('a')).toBe('new');
    expect(await cache.get('a')).toBe('new');
    expect(reads).toEqual(['a', 'a']);
  });

  it('holds at most `max` entries, dropping the least recently loaded', async () => {
    const store = counter();
    const cache = createNotifiedCache(store.load, { ttlMs: 60_000, max: 2 });
    for (const key of ['a', 'b', 'c', 'b']) await cache.get(key);
    await cache.get('a');
    expect(store.reads).toEqual(['a', 'b', 'c', 'a']);
  });

  it('returns but does not keep the values `keep` refuses (an unknown client, read again next time)', async () => {
    const reads: string[] = [];
    const cache = createNotifiedCache(async (key: string) => { reads.push(key); return key === 'known' ? { id: key } : undefined; }, {
      ttlMs: 60_000, max: 10, keep: (v) => v !== undefined,
    });
    expect(await cache.get('unknown')).toBeUndefined();
    expect(await cache.get('unknown')).toBeUndefined();
    expect(await cache.get('known')).toEqual({ id: 'known' });
    expect(await cache.get('known')).toEqual({ id: 'known' });
    expect(reads).toEqual(['unknown', 'unknown', 'known']);
  });
});
