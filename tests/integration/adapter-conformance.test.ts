// One conformance suite for the oidc-provider adapter contract, run against every backend:
// Redis, SQL on PostgreSQL, SQL on embedded PGlite. A backend that passes behaves like the others.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { errors } from 'oidc-provider';
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import knexFactory from 'knex';
import type { AdapterFactory, Payload } from '../../src/storage/short-lived-store.ts';
import { ROTATION_SETTLE_MS, RotationPendingError } from '../../src/oidc/adapters/redemption.ts';
import { backingServiceFailure } from '../../src/storage/failures.ts';
import { freePort } from '../support/server.ts';
import { createRedisAdapterFactory } from '../../src/oidc/adapters/redis-adapter.ts';
import { withRotationOwner } from '../../src/oidc/adapters/rotation.ts';
import { createSqlAdapterFactory } from '../../src/oidc/adapters/sql-adapter.ts';
import { createOidcRecordRepo, pruneExpired } from '../../src/oidc/adapters/oidc-record.repo.ts';
import { requireReal } from '../support/env.ts';
import { connectRedis, migratedEmbedded, migratedPostgres, type OpenStore } from '../support/stores.ts';

requireReal();

interface Backend {
  factory: AdapterFactory;
  /** SQL only: runs pruneExpired, then says how many rows of that model and id remain */
  pruneAndCount?: (model: string, id: string) => Promise<number>;
  /** how many records the grant's revocation index holds (Redis: members; SQL: rows after pruning) */
  grantIndexSize(grantId: string): Promise<number>;
  close(): Promise<void>;
}

const TTL = 60; // every record expires on its own, so the shared Redis is left clean
const PARALLEL = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (label: string) => `${label}-${randomUUID()}`;

/** Runs fn as if on a node whose clock is `seconds` ahead (past the Redis adapter's clock-skew allowance). */
async function withClockAhead<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const spy = jest.spyOn(Date, 'now').mockReturnValue(now + seconds * 1000);
  try { return await fn(); } finally { spy.mockRestore(); }
}

async function expectInvalidGrant(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(errors.InvalidGrant);
  expect((err as { error: string }).error).toBe('invalid_grant');
}

function adapterConformance(name: string, open: () => Promise<Backend>): void {
  describe(`adapter conformance: ${name}`, () => {
    let backend: Backend;
    let adapter: AdapterFactory;
    beforeAll(async () => { backend = await open(); adapter = backend.factory; });
    afterAll(async () => { await backend?.close(); });

    it('upsert then find returns the payload; a second upsert replaces it', async () => {
      const a = adapter('AccessToken');
      const jti = id('at');
      const payload: Payload = { jti, kind: 'AccessToken', accountId: 'u1', scope: 'openid', exp: 123, nested: { a: [1, 2] } };
      await a.upsert(jti, payload, TTL);
      expect(await a.find(jti)).toEqual(payload);
      await a.upsert(jti, { ...payload, scope: 'openid profile' }, TTL);
      expect((await a.find(jti))?.scope).toBe('openid profile');
      expect(await a.find(id('missing'))).toBeUndefined();
    });

    it('keeps models apart: the same id under another model is not found', async () => {
      const jti = id('shared');
      await adapter('AccessToken').upsert(jti, { jti, kind: 'AccessToken' }, TTL);
      expect(await adapter('RefreshToken').find(jti)).toBeUndefined();
    });

    it('a record with expiresIn 1 s is gone after 1.2 s', async () => {
      const a = adapter('Interaction');
      const uid = id('uid');
      const sid = id('int');
      await a.upsert(sid, { jti: sid, kind: 'Interaction', uid }, 1);
      expect(await a.find(sid)).toBeDefined();
      await sleep(1200);
      expect(await a.find(sid)).toBeUndefined();
      expect(await a.findByUid(uid)).toBeUndefined();
      // SQL keeps expired rows (invisible to find) until pruneExpired reclaims them
      if (backend.pruneAndCount) {
        const live = id('int');
        await a.upsert(live, { jti: live, kind: 'Interaction' }, TTL);
        expect(await backend.pruneAndCount('Interaction', sid)).toBe(0);
        expect(await backend.pruneAndCount('Interaction', live)).toBe(1);
      }
    });

    it('findByUid finds a Session by its uid', async () => {
      const a = adapter('Session');
      const sid = id('sess');
      const uid = id('uid');
      await a.upsert(sid, { jti: sid, kind: 'Session', uid, accountId: 'u1' }, TTL);
      expect(await a.findByUid(uid)).toMatchObject({ jti: sid, uid, accountId: 'u1' });
      expect(await a.findByUid(id('uid'))).toBeUndefined();
    });

    it('findByUserCode finds a DeviceCode by its user code', async () => {
      const a = adapter('DeviceCode');
      const dc = id('dc');
      const userCode = `UC${randomUUID().slice(0, 8).toUpperCase()}`;
      await a.upsert(dc, { jti: dc, kind: 'DeviceCode', userCode, clientId: 'cli' }, TTL);
      expect(await a.findByUserCode(userCode)).toMatchObject({ jti: dc, userCode });
      expect(await a.findByUserCode('NO-SUCH-CODE')).toBeUndefined();
    });

    it('destroy removes the record (and its uid lookup)', async () => {
      const a = adapter('Session');
      const sid = id('sess');
      const uid = id('uid');
      await a.upsert(sid, { jti: sid, kind: 'Session', uid }, TTL);
      await a.destroy(sid);
      expect(await a.find(sid)).toBeUndefined();
      expect(await a.findByUid(uid)).toBeUndefined();
      await expect(a.destroy(sid)).resolves.toBeUndefined(); // destroying twice is harmless
    });

    it('revokeByGrantId removes every model\'s records of that grant and nothing else', async () => {
      const grantId = id('grant');
      const otherGrant = id('grant');
      const mine = [
        ['AccessToken', id('at')], ['RefreshToken', id('rt')], ['AuthorizationCode', id('code')], ['DeviceCode', id('dc')],
      ] as const;
      for (const [model, jti] of mine) await adapter(model).upsert(jti, { jti, kind: model, grantId }, TTL);
      const otherAt = id('at');
      const session = id('sess');
      await adapter('AccessToken').upsert(otherAt, { jti: otherAt, kind: 'AccessToken', grantId: otherGrant }, TTL);
      await adapter('Session').upsert(session, { jti: session, kind: 'Session' }, TTL);

      await adapter('Grant').revokeByGrantId(grantId);

      for (const [model, jti] of mine) expect(await adapter(model).find(jti)).toBeUndefined();
      expect(await adapter('AccessToken').find(otherAt)).toMatchObject({ grantId: otherGrant });
      expect(await adapter('Session').find(session)).toBeDefined();
    });

    it('the grant\'s index keeps no member whose record expired; revoke still removes every live one', async () => {
      const grantId = id('grant');
      const rt = id('rt');
      const at = id('at');
      // keeps the index alive, and outlives the clock jump below (revoked at the end)
      await adapter('RefreshToken').upsert(rt, { jti: rt, kind: 'RefreshToken', grantId }, 3600);
      for (const jti of [id('at'), id('at'), id('at')]) await adapter('AccessToken').upsert(jti, { jti, kind: 'AccessToken', grantId }, 1);
      await sleep(1200);
      await withClockAhead(11 * 60, () => adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', grantId }, TTL));
      const live = [['RefreshToken', rt], ['AccessToken', at]] as const;
      expect(await backend.grantIndexSize(grantId)).toBe(live.length);

      await adapter('Grant').revokeByGrantId(grantId);
      for (const [model, jti] of live) expect(await adapter(model).find(jti)).toBeUndefined();
      expect(await backend.grantIndexSize(grantId)).toBe(0);
    });

    it('refresh-token rotations under one grant are all revoked together', async () => {
      const grantId = id('grant');
      const issued: Array<[string, string]> = [];
      for (let i = 0; i < 5; i++) {
        const rt = id('rt');
        const at = id('at');
        await adapter('RefreshToken').upsert(rt, { jti: rt, kind: 'RefreshToken', grantId, rotations: i }, TTL);
        await adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', grantId }, TTL);
        await adapter('RefreshToken').consume(rt);
        issued.push(['RefreshToken', rt], ['AccessToken', at]);
      }
      expect(await backend.grantIndexSize(grantId)).toBe(issued.length);
      await adapter('Grant').revokeByGrantId(grantId);
      for (const [model, jti] of issued) expect(await adapter(model).find(jti)).toBeUndefined();
      expect(await backend.grantIndexSize(grantId)).toBe(0);
    });

    it('listAccount lists the account\'s live sessions and grants; revokeAccount ends them with their tokens', async () => {
      const accountId = id('acct');
      const grantId = id('grant');
      const [s1, s2, other] = [id('sess'), id('sess'), id('sess')];
      const at = id('at');
      await adapter('Session').upsert(s1, { jti: s1, kind: 'Session', uid: id('uid'), accountId }, TTL);
      await adapter('Session').upsert(s2, { jti: s2, kind: 'Session', uid: id('uid'), accountId }, TTL);
      await adapter('Session').upsert(other, { jti: other, kind: 'Session', uid: id('uid'), accountId: id('acct') }, TTL);
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'cli' }, TTL);
      await adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', accountId, grantId }, TTL);
      await adapter('Session').destroy(s1); // as oidc-provider does when a session's id changes

      expect((await adapter.listAccount(accountId, 'Session')).map((s) => s.id)).toEqual([s2]);
      const grants = await adapter.listAccount(accountId, 'Grant');
      expect(grants).toEqual([{ id: grantId, payload: expect.objectContaining({ clientId: 'cli' }) }]);

      await adapter.revokeAccount(accountId);
      expect(await adapter('Session').find(s2)).toBeUndefined();
      expect(await adapter('Grant').find(grantId)).toBeUndefined();
      expect(await adapter('AccessToken').find(at)).toBeUndefined();
      expect(await adapter('Session').find(other)).toBeDefined();
      expect(await adapter.listAccount(accountId, 'Session')).toEqual([]);
    });

    it('consume marks the record consumed with a number (seconds)', async () => {
      const a = adapter('AuthorizationCode');
      const code = id('code');
      await a.upsert(code, { jti: code, kind: 'AuthorizationCode', grantId: id('grant') }, TTL);
      expect((await a.find(code))?.consumed).toBeUndefined();
      const before = Math.floor(Date.now() / 1000);
      await a.consume(code);
      const consumed = (await a.find(code))?.consumed;
      expect(typeof consumed).toBe('number');
      expect(Math.abs((consumed as number) - before)).toBeLessThanOrEqual(5);
    });

    it.each(['AuthorizationCode', 'DeviceCode'])(
      '%s: of 10 parallel consumes exactly one wins; the others get invalid_grant and revoke the grant',
      async (model) => {
        const grantId = id('grant');
        const jti = id(model);
        const at = id('at');
        const unrelated = id('at');
        await adapter(model).upsert(jti, { jti, kind: model, grantId }, TTL);
        await adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', grantId }, TTL);
        await adapter('AccessToken').upsert(unrelated, { jti: unrelated, kind: 'AccessToken', grantId: id('grant') }, TTL);

        const results = await Promise.allSettled(Array.from({ length: PARALLEL }, () => adapter(model).consume(jti)));

        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(PARALLEL - 1);
        for (const r of lost) {
          expect(r.reason).toBeInstanceOf(errors.InvalidGrant);
          expect(r.reason.error).toBe('invalid_grant');
        }
        expect(await adapter('AccessToken').find(at)).toBeUndefined();
        expect(await adapter(model).find(jti)).toBeUndefined();
        expect(await adapter('AccessToken').find(unrelated)).toBeDefined();
      },
    );

    /** A refresh token and an access token of one new grant, stored. */
    async function refreshTokenWithAccess(): Promise<{ grantId: string; rt: string; at: string }> {
      const grantId = id('grant');
      const rt = id('rt');
      const at = id('at');
      await adapter('RefreshToken').upsert(rt, { jti: rt, kind: 'RefreshToken', grantId }, TTL);
      await adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', grantId }, TTL);
      return { grantId, rt, at };
    }

    it('RefreshToken: of 10 parallel consumes exactly one wins; the others are told to retry, the grant stays', async () => {
      const { grantId, rt, at } = await refreshTokenWithAccess();
      const results = await Promise.allSettled(Array.from({ length: PARALLEL }, () => adapter('RefreshToken').consume(rt)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(lost).toHaveLength(PARALLEL - 1);
      // the winner's rotation is still in flight: its outcome decides, not the losers
      for (const r of lost) expect(r.reason).toBeInstanceOf(RotationPendingError);
      for (const r of lost) expect(backingServiceFailure(r.reason)).toBeDefined(); // a 503 with Retry-After
      expect(await adapter('AccessToken').find(at)).toBeDefined();
    });

    it('a settled refresh-token rotation is final: the old token presented again is a replay that revokes the grant', async () => {
      const { grantId, rt, at } = await refreshTokenWithAccess();
      await withRotationOwner('request-a', () => adapter('RefreshToken').consume(rt));
      expect((await adapter('RefreshToken').find(rt))?.consumed).toBeUndefined(); // pending: not a use yet
      expect(await adapter('RefreshToken').find(rt)).toEqual({ jti: rt, kind: 'RefreshToken', grantId }); // the mark is never shown
      expect(await adapter.settleRotation(rt, 'request-b')).toBe(false); // only the consuming request settles
      expect((await adapter('RefreshToken').find(rt))?.consumed).toBeUndefined();
      expect(await adapter.settleRotation(rt, 'request-a')).toBe(true);
      expect(await adapter.settleRotation(rt, 'request-a')).toBe(false); // nothing pending any more
      expect((await adapter('RefreshToken').find(rt))?.consumed).toEqual(expect.any(Number));
      await expectInvalidGrant(adapter('RefreshToken').consume(rt));
      expect(await adapter('AccessToken').find(at)).toBeUndefined();
    });

    it('an unsettled refresh-token rotation (its answer failed) is undone after the settle time: the token rotates again', async () => {
      const { grantId, rt, at } = await refreshTokenWithAccess();
      // request A consumes ... and its new refresh token's save failed, or it is still at work: never settled
      await withRotationOwner('request-a', () => adapter('RefreshToken').consume(rt));
      await expect(withRotationOwner('request-b', () => adapter('RefreshToken').consume(rt))).rejects.toBeInstanceOf(RotationPendingError);
      await sleep(ROTATION_SETTLE_MS + 300);
      expect((await adapter('RefreshToken').find(rt))?.consumed).toBeUndefined();
      await withRotationOwner('request-b', () => adapter('RefreshToken').consume(rt)); // the client's retry takes it over
      expect(await adapter('AccessToken').find(at)).toBeDefined();
      // A, late, must neither settle nor release B's mark: B's rotation is still the one in flight
      expect(await adapter.settleRotation(rt, 'request-a')).toBe(false);
      await adapter.releaseRotation(rt, 'request-a');
      await expect(withRotationOwner('request-c', () => adapter('RefreshToken').consume(rt))).rejects.toBeInstanceOf(RotationPendingError);
      expect(await adapter.settleRotation(rt, 'request-b')).toBe(true);
      await expectInvalidGrant(adapter('RefreshToken').consume(rt));
    }, 20_000);

    it('a refused rotation released by its owner leaves the token unused at once; another request cannot release it', async () => {
      const { grantId, rt, at } = await refreshTokenWithAccess();
      await withRotationOwner('request-a', () => adapter('RefreshToken').consume(rt));
      await adapter.releaseRotation(rt, 'request-b');
      await expect(withRotationOwner('request-c', () => adapter('RefreshToken').consume(rt))).rejects.toBeInstanceOf(RotationPendingError);
      await adapter.releaseRotation(rt, 'request-a'); // a 4xx after the consume (e.g. invalid_target)
      expect(await adapter('RefreshToken').find(rt)).toEqual({ jti: rt, kind: 'RefreshToken', grantId });
      await withRotationOwner('request-c', () => adapter('RefreshToken').consume(rt)); // no wait, no replay
      expect(await adapter.settleRotation(rt, 'request-c')).toBe(true);
      expect(await adapter('AccessToken').find(at)).toBeDefined();
      await expectInvalidGrant(adapter('RefreshToken').consume(rt));
    });

    it('a second, sequential consume of a code is a replay: invalid_grant and the grant is revoked', async () => {
      const grantId = id('grant');
      const code = id('code');
      const at = id('at');
      await adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', grantId }, TTL);
      await adapter('AccessToken').upsert(at, { jti: at, kind: 'AccessToken', grantId }, TTL);
      await adapter('AuthorizationCode').consume(code);
      expect(await adapter('AccessToken').find(at)).toBeDefined();
      await expectInvalidGrant(adapter('AuthorizationCode').consume(code));
      expect(await adapter('AccessToken').find(at)).toBeUndefined();
    });

    it('consume of a missing AuthorizationCode rejects with invalid_grant', async () => {
      await expectInvalidGrant(adapter('AuthorizationCode').consume(id('missing')));
    });

    it('a lost consume on Session or Interaction is a no-op, never an error', async () => {
      for (const model of ['Session', 'Interaction']) {
        const a = adapter(model);
        const jti = id(model);
        await a.upsert(jti, { jti, kind: model, grantId: id('grant') }, TTL);
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => a.consume(jti)));
        expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
        await expect(a.consume(jti)).resolves.toBeUndefined();
        await expect(a.consume(id('missing'))).resolves.toBeUndefined();
        expect((await a.find(jti))?.consumed).toEqual(expect.any(Number));
      }
    });
  });
}

adapterConformance('Redis', async () => {
  const redis: Redis = connectRedis();
  return {
    factory: createRedisAdapterFactory(redis),
    grantIndexSize: (grantId) => redis.zcard(`gh:oidc:byGrant:${grantId}`),
    close: async () => { await redis.quit(); },
  };
});

describe('Redis adapter: replies that are not the replies to what was sent', () => {
  // During a Cluster failover ioredis has resolved a MULTI with replies that were not those commands'
  // (e.g. [[null,79],[null,75]] for one SET) when nothing had been stored. Such a reply is a store
  // failure (503), never a save (200 for a token that introspects as inactive) nor "not found".
  let redis: Redis;
  let adapter: AdapterFactory;
  beforeEach(() => { redis = connectRedis(); adapter = createRedisAdapterFactory(redis); });
  afterEach(async () => { jest.restoreAllMocks(); await redis.quit(); });

  /** Every MULTI on this connection resolves with `replies` instead of its own (nothing is sent). */
  function transactionsAnswer(replies: unknown): void {
    jest.restoreAllMocks();
    const multi = redis.multi.bind(redis);
    jest.spyOn(redis, 'multi').mockImplementation(((...args: Parameters<Redis['multi']>) => {
      const m = multi(...args);
      m.exec = (async () => replies) as typeof m.exec;
      return m;
    }) as unknown as Redis['multi']);
  }
  async function expectStoreFailure(promise: Promise<unknown>): Promise<void> {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(backingServiceFailure(err)).toBe('redis');
  }

  it.each([
    ['more replies than commands, none an error', [[null, 79], [null, 75]]],
    ['integers where OK is due', [[null, 79]]],
    ['no reply at all', null],
    ['an empty reply', []],
    ['a reply entry of the wrong shape', ['OK']],
  ])('a save answered with %s rejects as a store failure', async (_label, replies) => {
    transactionsAnswer(replies);
    const jti = id('at');
    await expectStoreFailure(adapter('AccessToken').upsert(jti, { jti, kind: 'AccessToken' }, TTL));
    jest.restoreAllMocks();
    expect(await adapter('AccessToken').find(jti)).toBeUndefined(); // and indeed nothing was stored
  });

  it('each reply must be the one its command gives: a save, a removal, a revocation', async () => {
    const rt = id('rt');
    // DEL, HSET (1 new field), EXPIRE, ZREMRANGEBYSCORE, ZADD, EXPIRE NX, EXPIRE GT: HSET answered 'OK'
    transactionsAnswer([[null, 0], [null, 'OK'], [null, 1], [null, 0], [null, 1], [null, 1], [null, 0]]);
    await expectStoreFailure(adapter('RefreshToken').upsert(rt, { jti: rt, kind: 'RefreshToken', grantId: id('grant') }, TTL));
    transactionsAnswer([[null, 5]]); // DEL of one key answers 0 or 1
    await expectStoreFailure(adapter('AccessToken').destroy(id('at')));
    transactionsAnswer([[null, 'OK'], [null, 1]]);
    await expectStoreFailure(adapter('Grant').revokeByGrantId(id('grant')));
  });

  it('the well-formed replies of a real Redis pass (a save with every index)', async () => {
    const sid = id('sess');
    await adapter('Session').upsert(sid, { jti: sid, kind: 'Session', uid: id('uid'), accountId: id('acct'), grantId: id('grant') }, TTL);
    expect(await adapter('Session').find(sid)).toMatchObject({ jti: sid });
  });

  it('a read answered with something that is not a record of ours is a store failure, not "not found"', async () => {
    jest.spyOn(redis, 'hgetall').mockResolvedValue(79 as never);
    await expectStoreFailure(adapter('RefreshToken').find(id('rt')));
    jest.spyOn(redis, 'hgetall').mockResolvedValue({ consumed: '1' } as never);
    await expectStoreFailure(adapter('RefreshToken').find(id('rt')));
    jest.spyOn(redis, 'get').mockResolvedValue(['x'] as never);
    await expectStoreFailure(adapter('Session').findByUid(id('uid')));
  });

  it('a GET answered with another command\'s reply ("OK", seen in a Cluster failover) is a store failure', async () => {
    const sid = id('sess');
    await adapter('Session').upsert(sid, { jti: sid, kind: 'Session', uid: id('uid'), accountId: id('acct') }, TTL);
    jest.spyOn(redis, 'get').mockResolvedValue('OK' as never);
    await expectStoreFailure(adapter('Session').find(sid));
    jest.restoreAllMocks();
    jest.spyOn(redis, 'hgetall').mockResolvedValue({ payload: 'OK' } as never);
    await expectStoreFailure(adapter('RefreshToken').find(id('rt')));
  });
});

describe('a store read that fails is never "not found"', () => {
  // Valid refresh tokens were refused with invalid_grant during a failover: a read that fails must
  // reject (a 503), on every lookup of both stores.
  const lookups = (a: AdapterFactory) => [
    () => a('RefreshToken').find('x'), () => a('Session').find('x'), () => a('Session').findByUid('x'), () => a('DeviceCode').findByUserCode('X'),
  ];

  it('Redis: every lookup rejects with a store failure while Redis is unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const down = new RedisClient(`redis://127.0.0.1:${port}`, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    down.on('error', () => {});
    const a = createRedisAdapterFactory(down);
    for (const lookup of lookups(a)) {
      const err = await lookup().then(() => undefined, (e: unknown) => e);
      expect(backingServiceFailure(err)).toBe('redis');
    }
    down.disconnect();
  });

  it('SQL: every lookup rejects with a store failure while Postgres is unreachable', async () => {
    const port = await freePort();
    const down = knexFactory({ client: 'pg', connection: `postgres://postgres@127.0.0.1:${port}/postgres`, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000,
      log: { warn() {}, error() {}, debug() {}, deprecate() {} } });
    const a = createSqlAdapterFactory(createOidcRecordRepo(down));
    try {
      for (const lookup of lookups(a)) {
        const err = await lookup().then(() => undefined, (e: unknown) => e);
        expect(backingServiceFailure(err)).toBe('postgres');
      }
    } finally {
      await down.destroy();
    }
  });
});

describe('Redis adapter: records of the earlier layout', () => {
  // Before: every record a hash, `grant:<id>` a list and `account:<id>` a set of full key names.
  let redis: Redis;
  let adapter: AdapterFactory;
  beforeAll(() => { redis = connectRedis(); adapter = createRedisAdapterFactory(redis); });
  afterAll(async () => { await redis.quit(); });
  const k = (rest: string) => `gh:oidc:${rest}`;
  async function oldRecord(model: string, jti: string, payload: Payload): Promise<void> {
    await redis.hset(k(`${model}:${jti}`), 'payload', JSON.stringify({ jti, kind: model, ...payload }));
    await redis.expire(k(`${model}:${jti}`), TTL);
  }

  it('reads, consumes and replaces an old-format record without an error', async () => {
    const sid = id('sess');
    const uid = id('uid');
    await oldRecord('Session', sid, { uid, accountId: 'u1' });
    await redis.set(k(`uid:${uid}`), sid, 'EX', TTL);
    expect(await adapter('Session').find(sid)).toMatchObject({ jti: sid, accountId: 'u1' });
    expect(await adapter('Session').findByUid(uid)).toMatchObject({ jti: sid });
    await adapter('Session').consume(sid);
    expect((await adapter('Session').find(sid))?.consumed).toEqual(expect.any(Number));
    await adapter('Session').upsert(sid, { jti: sid, kind: 'Session', uid, accountId: 'u2' }, TTL);
    expect(await redis.type(k(`Session:${sid}`))).toBe('string');
    expect(await adapter('Session').find(sid)).toMatchObject({ accountId: 'u2' });
  });

  it('revokes what an old grant list names, beside the new index', async () => {
    const grantId = id('grant');
    const [oldAt, newAt] = [id('at'), id('at')];
    await oldRecord('AccessToken', oldAt, { grantId });
    await redis.rpush(k(`grant:${grantId}`), k(`AccessToken:${oldAt}`));
    await redis.expire(k(`grant:${grantId}`), TTL);
    await adapter('AccessToken').upsert(newAt, { jti: newAt, kind: 'AccessToken', grantId }, TTL);
    await adapter('Grant').revokeByGrantId(grantId);
    expect(await adapter('AccessToken').find(oldAt)).toBeUndefined();
    expect(await adapter('AccessToken').find(newAt)).toBeUndefined();
    expect(await redis.exists(k(`grant:${grantId}`), k(`byGrant:${grantId}`))).toBe(0);
  });

  it('lists and revokes what an old account set names', async () => {
    const accountId = id('acct');
    const [sid, grantId, at] = [id('sess'), id('grant'), id('at')];
    await oldRecord('Session', sid, { accountId });
    await oldRecord('Grant', grantId, { accountId });
    await oldRecord('AccessToken', at, { grantId });
    await redis.rpush(k(`grant:${grantId}`), k(`AccessToken:${at}`));
    await redis.sadd(k(`account:${accountId}`), k(`Session:${sid}`), k(`Grant:${grantId}`));
    await redis.expire(k(`account:${accountId}`), TTL);
    expect((await adapter.listAccount(accountId, 'Session')).map((r) => r.id)).toEqual([sid]);
    expect((await adapter.listAccount(accountId, 'Grant')).map((r) => r.id)).toEqual([grantId]);
    await adapter.revokeAccount(accountId);
    for (const gone of [`Session:${sid}`, `Grant:${grantId}`, `AccessToken:${at}`, `account:${accountId}`]) expect(await redis.exists(k(gone))).toBe(0);
  });
});

describe('Redis adapter: memory of one sign-in', () => {
  // The product target: ≤ 2 KB of Redis per signed-in session including its grant (Session, Grant
  // and every index the sign-in leaves), measured as the bench does (MEMORY USAGE … SAMPLES 0), with
  // payloads shaped like the ones oidc-provider writes for a code flow with consent and
  // offline_access, and a prefix as long as the bench's.
  const TARGET_BYTES = 2048;
  const prefix = `bench${randomBytes(3).toString('hex')}:`;
  let redis: Redis;
  beforeAll(() => { redis = connectRedis(); });
  afterAll(async () => { await redis.quit(); });
  const nanoid = () => randomBytes(32).toString('base64url'); // 43 characters, as oidc-provider's ids

  it(`leaves at most ${TARGET_BYTES} B for a session with its grant and indexes`, async () => {
    const adapter = createRedisAdapterFactory(redis, prefix);
    const LONG = 14 * 24 * 3600;
    const iat = Math.floor(Date.now() / 1000);
    const [accountId, clientId, uid, grantId, sid1, sid2, code, at, rt] =
      [randomUUID(), randomBytes(16).toString('base64url'), nanoid(), nanoid(), nanoid(), nanoid(), nanoid(), nanoid(), nanoid()];
    const login = { accountId, loginTs: iat, amr: ['pwd'], acr: 'pwd' };
    const scope = 'openid profile email offline_access';
    const session = (jti: string, authorizations?: object) => ({ iat, exp: iat + LONG, uid, ...login, kind: 'Session', jti, ...authorizations && { authorizations } });
    const token = { iat, accountId, grantId, sessionUid: uid, clientId, scope };

    // the sign-in resumes the authorization with a new session, consent resumes it again under a new id
    await adapter('Session').upsert(sid1, session(sid1), LONG);
    await adapter('Grant').upsert(grantId, { iat, exp: iat + LONG, accountId, clientId, kind: 'Grant', jti: grantId, openid: { scope } }, LONG);
    await adapter('Session').destroy(sid1);
    await adapter('Session').upsert(sid2, session(sid2, { [clientId]: { sid: nanoid(), grantId, persistsLogout: true } }), LONG);
    await adapter('AuthorizationCode').upsert(code, {
      ...token, exp: iat + 60, acr: 'pwd', amr: ['pwd'], authTime: iat, codeChallenge: nanoid(), codeChallengeMethod: 'S256',
      nonce: randomBytes(8).toString('hex'), redirectUri: 'http://127.0.0.1:7999/cb', kind: 'AuthorizationCode', jti: code,
    }, 60);
    await adapter('AuthorizationCode').consume(code);
    await adapter('AccessToken').upsert(at, { ...token, exp: iat + 3600, gty: 'authorization_code', kind: 'AccessToken', jti: at }, 3600);
    await adapter('RefreshToken').upsert(rt, {
      ...token, exp: iat + LONG, acr: 'pwd', amr: ['pwd'], authTime: iat, iiat: iat, gty: 'authorization_code', rotations: 0,
      nonce: randomBytes(8).toString('hex'), kind: 'RefreshToken', jti: rt,
    }, LONG);

    const keys = {
      Session: `Session:${sid2}`, Grant: `Grant:${grantId}`, byGrant: `byGrant:${grantId}`, byAccount: `byAccount:${accountId}`, uid: `uid:${uid}`,
    };
    const bytes: Record<string, number> = {};
    for (const [group, rest] of Object.entries(keys)) {
      const k = `${prefix}oidc:${rest}`;
      expect(await redis.ttl(k)).toBeGreaterThan(0);
      bytes[group] = Number(await redis.memory('USAGE', k, 'SAMPLES', '0'));
    }
    // the destroyed session left the account's index; members do not repeat the key prefix
    expect((await redis.zrange(`${prefix}oidc:byAccount:${accountId}`, 0, '-1')).sort()).toEqual([`Grant:${grantId}`, `Session:${sid2}`]);
    const total = Object.values(bytes).reduce((a, b) => a + b, 0);
    if (total > TARGET_BYTES) throw new Error(`one sign-in leaves ${total} B: ${JSON.stringify(bytes)}`);

    await adapter.revokeAccount(accountId);
    await redis.del(`${prefix}oidc:uid:${uid}`, `${prefix}oidc:AuthorizationCode:${code}`);
  });
});

function sqlBackend(open: () => Promise<OpenStore>): () => Promise<Backend> {
  return async () => {
    const store = await open();
    const { knex } = store.db;
    const pruneAndCount = async (model: string, rowId: string) => {
      await pruneExpired(knex);
      const [{ n }] = await knex('oidc_records').where({ model, id: rowId }).count({ n: '*' }) as Array<{ n: string | number }>;
      return Number(n);
    };
    const grantIndexSize = async (grantId: string) => {
      await pruneExpired(knex);
      const [{ n }] = await knex('oidc_records').where({ grant_id: grantId }).count({ n: '*' }) as Array<{ n: string | number }>;
      return Number(n);
    };
    return { factory: createSqlAdapterFactory(createOidcRecordRepo(knex)), pruneAndCount, grantIndexSize, close: () => store.dispose() };
  };
}

adapterConformance('SQL on PostgreSQL', sqlBackend(migratedPostgres));
adapterConformance('SQL on embedded PGlite', sqlBackend(migratedEmbedded));
