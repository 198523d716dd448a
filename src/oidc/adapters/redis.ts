// The provider's short-lived records in Redis, under `${prefix}oidc:`:
//   <Model>:<id>        the record: a JSON string, or for consumable models a hash (payload + consumed)
//   byGrant:<grantId>   sorted set of the grant's records (`Model:id`, scored by expiry) for revocation
//   byAccount:<id>      sorted set of the account's Session and Grant records, likewise
//   uid:<uid>, userCode:<code>   the id of the Session / DeviceCode they name
// Memory per sign-in is a product target (≤ 2 KB for a session with its grant, docs/performance.md),
// measured with MEMORY USAGE: a hash whose payload exceeds hash-max-listpack-value (64 B) is a
// hashtable, 128 B more than the same JSON as a string; index members leave out the common prefix.
//
// Upgrading from the earlier layout (every record a hash; `grant:<id>` a list and `account:<id>` a
// set of full key names): old hashes of string-encoded models are still read (and consumed) until
// their next save turns them into strings, and the old index keys are still read and deleted on
// revocation. Both fallbacks can go once the longest TTL (refresh tokens, 14 days by default) has
// passed since every node runs this version. Nodes of the earlier version cannot read the new
// strings (WRONGTYPE), so do not mix versions during a rolling upgrade.
import type { ChainableCommander, Redis } from 'ioredis';
import { ACCOUNT_INDEXED, lostConsumeRace, type Adapter, type AdapterFactory, type Payload } from './types.ts';

/**
 * Models oidc-provider consumes (the ones with consume() in lib/models): a hash, so the consumed
 * mark is one atomic HSETNX beside the payload. Every other model is a plain JSON string.
 */
const CONSUMABLE = new Set([
  'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest', 'PreAuthorizedCode',
]);

/**
 * Index members are trimmed this long after their expiry, not at once: expiry scores come from
 * the clock of the node that saved the record, and a node whose clock runs ahead must not drop a
 * live record from its grant's index (revocation would miss it).
 */
const CLOCK_SKEW_ALLOWANCE_SECONDS = 10 * 60;

// Marks consumed only if the record exists (HSETNX alone would create it). Returns 1 (won),
// 0 (already consumed), -1 (no such record). Strings are the models oidc-provider never consumes,
// and hashes of those models the earlier layout; both are handled so the contract holds for all.
const CONSUME_SCRIPT = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'hash' then return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) end
if t ~= 'string' then return -1 end
local json = redis.call('GET', KEYS[1])
if cjson.decode(json).consumed ~= nil then return 0 end
local sep = json == '{}' and '' or ','
redis.call('SET', KEYS[1], string.sub(json, 1, -2) .. sep .. '"consumed":' .. ARGV[1] .. '}', 'KEEPTTL')
return 1`;

/**
 * Extends an index key's lifetime to at least `seconds`, inside the transaction and without a
 * TTL read first (one round trip less per save on the token path): NX sets it on a new key,
 * GT only ever lengthens it (Redis ≥ 7).
 */
function outlive(multi: ChainableCommander, k: string, seconds: number): void {
  multi.expire(k, seconds, 'NX');
  multi.expire(k, seconds, 'GT');
}

/** Adds a member scored by its record's expiry and drops the members whose records have expired. */
function addToIndex(multi: ChainableCommander, k: string, member: string, expiresIn: number | undefined, now: number): void {
  multi.zremrangebyscore(k, '-inf', `(${now - CLOCK_SKEW_ALLOWANCE_SECONDS}`);
  multi.zadd(k, expiresIn ? now + expiresIn : '+inf', member);
  if (expiresIn) outlive(multi, k, expiresIn); // the index lives as long as its longest-lived member
}

/** exec() reports a failed command in its results, not by rejecting. */
async function exec(multi: ChainableCommander): Promise<void> {
  const failed = (await multi.exec())?.find(([err]) => err);
  if (failed) throw failed[0];
}

function decodeHash(hash: Record<string, string>): Payload | undefined {
  if (!hash.payload) return undefined;
  const payload = JSON.parse(hash.payload) as Payload;
  if (hash.consumed) payload.consumed = Number(hash.consumed);
  return payload;
}

const isWrongType = (e: unknown) => e instanceof Error && e.message.startsWith('WRONGTYPE');
const nowSeconds = () => Math.floor(Date.now() / 1000);

export function createRedisAdapterFactory(redis: Redis, prefix = 'gh:'): AdapterFactory {
  const base = `${prefix}oidc:`;
  const member = (model: string, id: string) => `${model}:${id}`;
  const key = (model: string, id: string) => `${base}${member(model, id)}`;
  const grantIndexKey = (grantId: string) => `${base}byGrant:${grantId}`;
  const accountIndexKey = (accountId: string) => `${base}byAccount:${accountId}`;
  const legacyGrantKey = (grantId: string) => `${base}grant:${grantId}`;
  const legacyAccountKey = (accountId: string) => `${base}account:${accountId}`;
  const uidKey = (uid: string) => `${base}uid:${uid}`;
  const userCodeKey = (userCode: string) => `${base}userCode:${userCode}`;
  redis.defineCommand('ghConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
  const consume = (k: string, at: number) => (redis as unknown as { ghConsume(k: string, at: number): Promise<number> }).ghConsume(k, at);

  async function read(model: string, k: string): Promise<Payload | undefined> {
    if (CONSUMABLE.has(model)) return decodeHash(await redis.hgetall(k));
    try {
      const json = await redis.get(k);
      return json === null ? undefined : JSON.parse(json) as Payload;
    } catch (e) {
      if (isWrongType(e)) return decodeHash(await redis.hgetall(k)); // saved by the earlier layout
      throw e;
    }
  }

  const factory = (model: string): Adapter => {
    const adapter: Adapter = {
      async upsert(id, payload, expiresIn) {
        const k = key(model, id);
        const now = nowSeconds();
        const multi = redis.multi();
        if (CONSUMABLE.has(model)) {
          multi.del(k);
          multi.hset(k, 'payload', JSON.stringify(payload));
          if (expiresIn) multi.expire(k, expiresIn);
        } else if (expiresIn) {
          multi.set(k, JSON.stringify(payload), 'EX', expiresIn);
        } else {
          multi.set(k, JSON.stringify(payload));
        }
        if (payload.grantId) addToIndex(multi, grantIndexKey(payload.grantId), member(model, id), expiresIn, now);
        if (payload.accountId && ACCOUNT_INDEXED.has(model)) {
          addToIndex(multi, accountIndexKey(payload.accountId), member(model, id), expiresIn, now);
        }
        if (payload.userCode) {
          multi.set(userCodeKey(payload.userCode), id);
          if (expiresIn) multi.expire(userCodeKey(payload.userCode), expiresIn);
        }
        if (payload.uid) {
          multi.set(uidKey(payload.uid), id);
          if (expiresIn) multi.expire(uidKey(payload.uid), expiresIn);
        }
        await exec(multi);
      },
      async find(id) {
        return read(model, key(model, id));
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
        const won = await consume(k, nowSeconds());
        if (won === 1) return;
        const existing = won === 0 ? await read(model, k) : undefined;
        await lostConsumeRace(adapter, model, existing?.grantId);
      },
      async destroy(id) {
        const k = key(model, id);
        // A session's id changes at every sign-in (oidc-provider destroys the old one): take it out
        // of the account's index, or each sign-in would leave a dead member there until it expires.
        const accountId = ACCOUNT_INDEXED.has(model) ? (await read(model, k))?.accountId : undefined;
        const multi = redis.multi().del(k);
        if (accountId) multi.zrem(accountIndexKey(accountId), member(model, id));
        await exec(multi);
      },
      async revokeByGrantId(grantId) {
        const gk = grantIndexKey(grantId);
        const [members, legacy] = await Promise.all([redis.zrange(gk, 0, '-1'), redis.lrange(legacyGrantKey(grantId), 0, -1)]);
        const multi = redis.multi();
        members.forEach((m) => multi.del(base + m));
        legacy.forEach((k) => multi.del(k)); // full key names
        multi.del(gk, legacyGrantKey(grantId));
        await exec(multi);
      },
    };
    return adapter;
  };

  /** The account's index members as `Model:id`, the earlier layout's set included. */
  async function accountMembers(accountId: string): Promise<string[]> {
    const [members, legacy] = await Promise.all([redis.zrange(accountIndexKey(accountId), 0, '-1'), redis.smembers(legacyAccountKey(accountId))]);
    return [...new Set([...members, ...legacy.map((k) => k.slice(base.length))])];
  }

  return Object.assign(factory, {
    async listAccount(accountId: string, model: 'Session' | 'Grant') {
      const ids = (await accountMembers(accountId)).filter((m) => m.startsWith(`${model}:`)).map((m) => m.slice(model.length + 1));
      const records = factory(model);
      const found = await Promise.all(ids.map(async (id) => ({ id, payload: await records.find(id) })));
      return found.filter((r): r is { id: string; payload: Payload } => r.payload !== undefined);
    },
    async revokeAccount(accountId: string) {
      const members = await accountMembers(accountId);
      const grants = factory('Grant');
      for (const m of members) if (m.startsWith('Grant:')) await grants.revokeByGrantId(m.slice('Grant:'.length));
      const multi = redis.multi();
      members.forEach((m) => multi.del(base + m));
      multi.del(accountIndexKey(accountId), legacyAccountKey(accountId));
      await exec(multi);
    },
  });
}
