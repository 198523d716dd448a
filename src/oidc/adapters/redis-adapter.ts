// The provider's short-lived records in Redis, under `${prefix}oidc:`:
//   <Model>:<id>        the record: a JSON string, or for consumable models a hash (payload + consumed;
//                       a refresh token's pending consumption adds pendingUntil and pendingOwner)
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
import { StoreReplyError } from '../../storage/failures.ts';
import type { Adapter, AdapterFactory, Payload } from '../../storage/short-lived-store.ts';
import { ACCOUNT_INDEXED, lostConsumeRace, ROTATION_SETTLE_MS, RotationPendingError } from './redemption.ts';
import { rotationOwner } from './rotation.ts';

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
// 0 (already consumed), -1 (no such record), 2 (a rotation of it is still pending). Strings are the
// models oidc-provider never consumes, and hashes of those models the earlier layout; both are
// handled so the contract holds for all.
// ARGV[2] > 0 (refresh tokens): the consumption is pending for that many ms, on Redis's clock (one
// clock for every node), under owner ARGV[3] (the consuming request's nonce), until that owner
// settles it (SETTLE_SCRIPT); a pending one past its time was never settled (the rotation failed
// or is slow), and this consume takes it over, under its own owner: see ROTATION_SETTLE_MS.
const CONSUME_SCRIPT = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'hash' then
  local settle = tonumber(ARGV[2])
  if settle == 0 then return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) end
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if redis.call('HEXISTS', KEYS[1], 'consumed') == 1 then
    local pending = redis.call('HGET', KEYS[1], 'pendingUntil')
    if not pending then return 0 end
    if tonumber(pending) > now then return 2 end
  end
  redis.call('HSET', KEYS[1], 'consumed', ARGV[1], 'pendingUntil', now + settle, 'pendingOwner', ARGV[3])
  return 1
end
if t ~= 'string' then return -1 end
local json = redis.call('GET', KEYS[1])
if cjson.decode(json).consumed ~= nil then return 0 end
local sep = json == '{}' and '' or ','
redis.call('SET', KEYS[1], string.sub(json, 1, -2) .. sep .. '"consumed":' .. ARGV[1] .. '}', 'KEEPTTL')
return 1`;
const CONSUME_REPLIES = new Set([-1, 0, 1, 2]);

// Compare-and-settle (ARGV[2] 'settle') or compare-and-release ('release') of a pending consumption:
// only by the owner that consumed (ARGV[1]), so a slow request whose mark was taken over cannot clear
// the new owner's. 1 done, 0 not ours (taken over, already settled, or no such record).
const SETTLE_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
if redis.call('HGET', KEYS[1], 'pendingOwner') ~= ARGV[1] then return 0 end
if ARGV[2] == 'release' then
  redis.call('HDEL', KEYS[1], 'consumed', 'pendingUntil', 'pendingOwner')
else
  redis.call('HDEL', KEYS[1], 'pendingUntil', 'pendingOwner')
end
return 1`;

/** What each command of a transaction must answer; anything else means the reply is not ours. */
type Expect = (reply: unknown) => boolean;
const isOk: Expect = (r) => r === 'OK';
const isOne: Expect = (r) => r === 1;
/** An integer count from 0 to max (DEL of n keys, ZADD of one member, EXPIRE: 0 or 1). */
const upTo = (max: number): Expect => (r) => typeof r === 'number' && Number.isInteger(r) && r >= 0 && r <= max;

/**
 * A MULTI whose reply is checked in full: one entry per command queued, no error, and each the
 * answer that command gives ('OK' where OK is due, a count in range where a count is due). exec()
 * alone reports a failed command in its results, not by rejecting; and during a Cluster failover
 * ioredis has resolved a transaction with replies that were not those commands' at all (e.g.
 * [[null,79],[null,75]] for one SET), when the commands had not been applied: such a write is not
 * stored, so it must not be answered as if it were.
 */
class Transaction {
  readonly multi: ChainableCommander;
  private readonly expected: Expect[] = [];
  private readonly what: string;
  constructor(redis: Redis, what: string) { this.multi = redis.multi(); this.what = what; }

  /** Queues one command (build must queue exactly one) and what it must answer. */
  add(expect: Expect, build: (m: ChainableCommander) => unknown): this {
    build(this.multi);
    this.expected.push(expect);
    return this;
  }

  async exec(): Promise<void> {
    const replies: unknown = await this.multi.exec();
    if (!Array.isArray(replies) || replies.length !== this.expected.length) throw new StoreReplyError(this.what);
    replies.forEach((entry: unknown, i) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw new StoreReplyError(this.what);
      if (entry[0]) throw entry[0];
      if (!this.expected[i]!(entry[1])) throw new StoreReplyError(this.what);
    });
  }
}

/**
 * Extends an index key's lifetime to at least `seconds`, inside the transaction and without a
 * TTL read first (one round trip less per save on the token path): NX sets it on a new key,
 * GT only ever lengthens it (Redis ≥ 7).
 */
function outlive(tx: Transaction, k: string, seconds: number): void {
  tx.add(upTo(1), (m) => m.expire(k, seconds, 'NX'));
  tx.add(upTo(1), (m) => m.expire(k, seconds, 'GT'));
}

/** Adds a member scored by its record's expiry and drops the members whose records have expired. */
function addToIndex(tx: Transaction, k: string, member: string, expiresIn: number | undefined, now: number): void {
  tx.add(upTo(Number.MAX_SAFE_INTEGER), (m) => m.zremrangebyscore(k, '-inf', `(${now - CLOCK_SKEW_ALLOWANCE_SECONDS}`));
  tx.add(upTo(1), (m) => m.zadd(k, expiresIn ? now + expiresIn : '+inf', member));
  if (expiresIn) outlive(tx, k, expiresIn); // the index lives as long as its longest-lived member
}

/** A reply that must be a string or nil (GET); anything else is not the reply to it. */
function stringOrNull(reply: unknown, what: string): string | null {
  if (reply === null || typeof reply === 'string') return reply;
  throw new StoreReplyError(what);
}

/** A list of strings (ZRANGE, LRANGE, SMEMBERS). */
function strings(reply: unknown, what: string): string[] {
  if (Array.isArray(reply) && reply.every((m) => typeof m === 'string')) return reply;
  throw new StoreReplyError(what);
}

/**
 * A hash as HGETALL returns it: empty when there is no such key. A hash of ours always holds a
 * payload; one that is not a map of strings, or lacks it, is not a record of ours, and reading it
 * as "not found" would refuse a valid token (invalid_grant) for what is a store failure.
 */
/**
 * A stored record of ours is always a JSON object. During a Cluster failover ioredis has been seen
 * to resolve a GET with another command's reply ("OK"): that is a store failure (503), not a bug.
 */
function parsePayload(text: string, command: string): Payload {
  let value: unknown;
  try { value = JSON.parse(text); } catch { throw new StoreReplyError(command); }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new StoreReplyError(command);
  return value as Payload;
}

function decodeHash(hash: unknown): Payload | undefined {
  if (!hash || typeof hash !== 'object' || Array.isArray(hash)) throw new StoreReplyError('HGETALL');
  const fields = hash as Record<string, unknown>;
  if (Object.keys(fields).length === 0) return undefined;
  if (typeof fields.payload !== 'string') throw new StoreReplyError('HGETALL');
  const payload = parsePayload(fields.payload, 'HGETALL');
  // a pending consumption is not a use yet (ROTATION_SETTLE_MS): consume() decides what it means
  if (fields.consumed && fields.pendingUntil === undefined) payload.consumed = Number(fields.consumed);
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
  redis.defineCommand('ghSettle', { numberOfKeys: 1, lua: SETTLE_SCRIPT });
  const scripts = redis as unknown as {
    ghConsume(k: string, at: number, settle: number, owner: string): Promise<unknown>;
    ghSettle(k: string, owner: string, action: 'settle' | 'release'): Promise<unknown>;
  };
  async function consume(k: string, at: number, settleMs: number): Promise<number> {
    const won: unknown = await scripts.ghConsume(k, at, settleMs, settleMs ? rotationOwner() : '');
    if (typeof won !== 'number' || !CONSUME_REPLIES.has(won)) throw new StoreReplyError('the consume script');
    return won;
  }
  async function settleOrRelease(refreshTokenId: string, owner: string, action: 'settle' | 'release'): Promise<boolean> {
    const done: unknown = await scripts.ghSettle(key('RefreshToken', refreshTokenId), owner, action);
    if (done !== 0 && done !== 1) throw new StoreReplyError('the settle script');
    return done === 1;
  }
  const get = async (k: string) => stringOrNull(await redis.get(k), 'GET');

  async function read(model: string, k: string): Promise<Payload | undefined> {
    if (CONSUMABLE.has(model)) return decodeHash(await redis.hgetall(k));
    try {
      const json = await get(k);
      return json === null ? undefined : parsePayload(json, 'GET');
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
        const tx = new Transaction(redis, `the save of a ${model}`);
        if (CONSUMABLE.has(model)) {
          tx.add(upTo(1), (m) => m.del(k));
          tx.add(isOne, (m) => m.hset(k, 'payload', JSON.stringify(payload))); // one new field: the key was just deleted
          if (expiresIn) tx.add(isOne, (m) => m.expire(k, expiresIn));
        } else if (expiresIn) {
          tx.add(isOk, (m) => m.set(k, JSON.stringify(payload), 'EX', expiresIn));
        } else {
          tx.add(isOk, (m) => m.set(k, JSON.stringify(payload)));
        }
        if (payload.grantId) addToIndex(tx, grantIndexKey(payload.grantId), member(model, id), expiresIn, now);
        if (payload.accountId && ACCOUNT_INDEXED.has(model)) {
          addToIndex(tx, accountIndexKey(payload.accountId), member(model, id), expiresIn, now);
        }
        for (const lookup of [payload.userCode && userCodeKey(payload.userCode), payload.uid && uidKey(payload.uid)]) {
          if (!lookup) continue;
          tx.add(isOk, (m) => m.set(lookup, id));
          if (expiresIn) tx.add(isOne, (m) => m.expire(lookup, expiresIn));
        }
        await tx.exec();
      },
      async find(id) {
        return read(model, key(model, id));
      },
      async findByUid(uid) {
        const id = await get(uidKey(uid));
        return id ? adapter.find(id) : undefined;
      },
      async findByUserCode(userCode) {
        const id = await get(userCodeKey(userCode));
        return id ? adapter.find(id) : undefined;
      },
      async consume(id) {
        const k = key(model, id);
        const won = await consume(k, nowSeconds(), model === 'RefreshToken' ? ROTATION_SETTLE_MS : 0);
        if (won === 1) return;
        if (won === 2) throw new RotationPendingError('redis');
        const existing = won === 0 ? await read(model, k) : undefined;
        await lostConsumeRace(adapter, model, existing?.grantId);
      },
      async destroy(id) {
        const k = key(model, id);
        // A session's id changes at every sign-in (oidc-provider destroys the old one): take it out
        // of the account's index, or each sign-in would leave a dead member there until it expires.
        const accountId = ACCOUNT_INDEXED.has(model) ? (await read(model, k))?.accountId : undefined;
        const tx = new Transaction(redis, `the removal of a ${model}`).add(upTo(1), (m) => m.del(k));
        if (accountId) tx.add(upTo(1), (m) => m.zrem(accountIndexKey(accountId), member(model, id)));
        await tx.exec();
      },
      async revokeByGrantId(grantId) {
        const gk = grantIndexKey(grantId);
        const [members, legacy] = await Promise.all([
          redis.zrange(gk, 0, '-1').then((r) => strings(r, 'ZRANGE')),
          redis.lrange(legacyGrantKey(grantId), 0, -1).then((r) => strings(r, 'LRANGE')),
        ]);
        const tx = new Transaction(redis, 'the revocation of a grant');
        members.forEach((m) => tx.add(upTo(1), (multi) => multi.del(base + m)));
        legacy.forEach((k) => tx.add(upTo(1), (multi) => multi.del(k))); // full key names
        tx.add(upTo(2), (multi) => multi.del(gk, legacyGrantKey(grantId)));
        await tx.exec();
      },
    };
    return adapter;
  };

  /** The account's index members as `Model:id`, the earlier layout's set included. */
  async function accountMembers(accountId: string): Promise<string[]> {
    const [members, legacy] = await Promise.all([
      redis.zrange(accountIndexKey(accountId), 0, '-1').then((r) => strings(r, 'ZRANGE')),
      redis.smembers(legacyAccountKey(accountId)).then((r) => strings(r, 'SMEMBERS')),
    ]);
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
      const tx = new Transaction(redis, 'the revocation of an account');
      members.forEach((m) => tx.add(upTo(1), (multi) => multi.del(base + m)));
      tx.add(upTo(2), (multi) => multi.del(accountIndexKey(accountId), legacyAccountKey(accountId)));
      await tx.exec();
    },
    backend: 'redis' as const,
    settleRotation: (refreshTokenId: string, owner: string) => settleOrRelease(refreshTokenId, owner, 'settle'),
    async releaseRotation(refreshTokenId: string, owner: string) { await settleOrRelease(refreshTokenId, owner, 'release'); },
  });
}
