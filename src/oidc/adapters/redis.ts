// The provider's short-lived records in Redis: one hash per record (payload + consumed), a list
// per grant for revocation, and index keys for Session.uid and DeviceCode.userCode.
import type { ChainableCommander, Redis } from 'ioredis';
import { ACCOUNT_INDEXED, lostConsumeRace, type Adapter, type AdapterFactory, type Payload } from './types.ts';


// HSETNX alone would create a missing record; the script marks consumed only if it exists.
// Returns 1 (won), 0 (already consumed), -1 (no such record).
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

/**
 * Extends an index key's lifetime to at least `seconds`, inside the transaction and without a
 * TTL read first (one round trip less per save on the token path): NX sets it on a new key,
 * GT only ever lengthens it (Redis ≥ 7).
 */
function outlive(multi: ChainableCommander, k: string, seconds: number): void {
  multi.expire(k, seconds, 'NX');
  multi.expire(k, seconds, 'GT');
}

function decode(hash: Record<string, string>): Payload | undefined {
  if (!hash.payload) return undefined;
  const payload = JSON.parse(hash.payload) as Payload;
  if (hash.consumed) payload.consumed = Number(hash.consumed);
  return payload;
}

export function createRedisAdapterFactory(redis: Redis, prefix = 'gh:'): AdapterFactory {
  const base = `${prefix}oidc:`;
  const key = (model: string, id: string) => `${base}${model}:${id}`;
  const grantKey = (grantId: string) => `${base}grant:${grantId}`;
  const uidKey = (uid: string) => `${base}uid:${uid}`;
  const userCodeKey = (userCode: string) => `${base}userCode:${userCode}`;
  const accountKey = (accountId: string) => `${base}account:${accountId}`;
  redis.defineCommand('ghConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
  const consume = (k: string, at: number) => (redis as unknown as { ghConsume(k: string, at: number): Promise<number> }).ghConsume(k, at);

  const factory = (model: string): Adapter => {
    const adapter: Adapter = {
      async upsert(id, payload, expiresIn) {
        const k = key(model, id);
        const multi = redis.multi();
        multi.del(k);
        multi.hset(k, 'payload', JSON.stringify(payload));
        if (expiresIn) multi.expire(k, expiresIn);
        if (payload.grantId) {
          const gk = grantKey(payload.grantId);
          multi.rpush(gk, k);
          if (expiresIn) outlive(multi, gk, expiresIn); // the list lives as long as its longest-lived member
        }
        if (payload.accountId && ACCOUNT_INDEXED.has(model)) {
          const ak = accountKey(payload.accountId);
          multi.sadd(ak, k);
          if (expiresIn) outlive(multi, ak, expiresIn);
        }
        if (payload.userCode) {
          multi.set(userCodeKey(payload.userCode), id);
          if (expiresIn) multi.expire(userCodeKey(payload.userCode), expiresIn);
        }
        if (payload.uid) {
          multi.set(uidKey(payload.uid), id);
          if (expiresIn) multi.expire(uidKey(payload.uid), expiresIn);
        }
        await multi.exec();
      },
      async find(id) {
        return decode(await redis.hgetall(key(model, id)));
      },
      async findByUid(uid) {
        const id = await redis.get(uidKey(uid));
        return id ? adapter.find(id) : undefined;
      },
      async findByUserCode(userCode) {
        const id = await redis.get(userCodeKey(userCode));
        return id ? adapter.find(id) : undefined;
      },
      async consume(id) {
        const k = key(model, id);
        const won = await consume(k, Math.floor(Date.now() / 1000));
        if (won === 1) return;
        const existing = won === 0 ? decode(await redis.hgetall(k)) : undefined;
        await lostConsumeRace(adapter, model, existing?.grantId);
      },
      async destroy(id) {
        await redis.del(key(model, id));
      },
      async revokeByGrantId(grantId) {
        const gk = grantKey(grantId);
        const members = await redis.lrange(gk, 0, -1);
        const multi = redis.multi();
        members.forEach((m) => multi.del(m));
        multi.del(gk);
        await multi.exec();
      },
    };
    return adapter;
  };

  return Object.assign(factory, {
    async listAccount(accountId: string, model: 'Session' | 'Grant') {
      const prefix = `${base}${model}:`;
      const members = (await redis.smembers(accountKey(accountId))).filter((m) => m.startsWith(prefix));
      const out: Array<{ id: string; payload: Payload }> = [];
      for (const m of members) {
        const payload = decode(await redis.hgetall(m));
        if (payload) out.push({ id: m.slice(prefix.length), payload });
      }
      return out;
    },
    async revokeAccount(accountId: string) {
      const ak = accountKey(accountId);
      const members = await redis.smembers(ak);
      const grants = factory('Grant');
      for (const member of members) {
        const [model, id] = member.slice(base.length).split(':') as [string, string];
        if (model === 'Grant') await grants.revokeByGrantId(id);
        await redis.del(member);
      }
      await redis.del(ak);
    },
  });
}
