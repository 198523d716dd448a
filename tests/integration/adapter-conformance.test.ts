// One conformance suite for the oidc-provider adapter contract, run against every backend:
// Redis, SQL on PostgreSQL, SQL on embedded PGlite. A backend that passes behaves like the others.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { errors } from 'oidc-provider';
import type { Redis } from 'ioredis';
import type { AdapterFactory, Payload } from '../../src/oidc/adapters/types.ts';
import { createRedisAdapterFactory } from '../../src/oidc/adapters/redis.ts';
import { createSqlAdapterFactory, pruneExpired } from '../../src/oidc/adapters/sql.ts';
import { requireReal } from '../support/env.ts';
import { connectRedis, migratedEmbedded, migratedPostgres, type OpenStore } from '../support/stores.ts';

requireReal();

interface Backend {
  factory: AdapterFactory;
  /** SQL only: runs pruneExpired, then says how many rows of that model and id remain */
  pruneAndCount?: (model: string, id: string) => Promise<number>;
  close(): Promise<void>;
}

const TTL = 60; // every record expires on its own, so the shared Redis is left clean
const PARALLEL = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (label: string) => `${label}-${randomUUID()}`;

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

    it.each(['AuthorizationCode', 'RefreshToken', 'DeviceCode'])(
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
  return { factory: createRedisAdapterFactory(redis), close: async () => { await redis.quit(); } };
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
    return { factory: createSqlAdapterFactory(knex), pruneAndCount, close: () => store.dispose() };
  };
}

adapterConformance('SQL on PostgreSQL', sqlBackend(migratedPostgres));
adapterConformance('SQL on embedded PGlite', sqlBackend(migratedEmbedded));
