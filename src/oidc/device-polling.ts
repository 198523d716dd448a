// The token endpoint's answers to a polling device (RFC 8628 §3.4–3.5) that oidc-provider leaves
// to the deployment: it advertises the interval, answers slow_down to a device that polls faster
// than that (and raises its interval by 5 s, as §3.5 requires), and says expired_token rather than
// invalid_grant after the code's lifetime, when the stores have already dropped the code itself.
// It runs after the provider's handler (provider.use) and only rewrites the answers of device polls.
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Redis } from 'ioredis';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { backingServiceFailure, StoreReplyError } from '../storage/failures.ts';
import { PROVIDER_ROUTES } from './internals.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: the default a client uses when the response gives none; we state it anyway. */
export const POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;
/** Polls are timed on whichever node answers: allow for clock skew between nodes and network jitter. */
const POLL_TOLERANCE_MS = 1000;
/** How long after its expiry a device still hears expired_token (then: invalid_grant, as for any unknown code). */
const EXPIRED_ANSWER_SECONDS = 10 * 60;

interface PollState {
  expiresAt: number; // ms
  interval: number; // seconds
}

/**
 * Where polls are timed. Each poll of a pending device code reads the code's state and swaps in
 * the time of this poll for the last one; the state changes only when a device is told to slow down.
 */
interface PollStore {
  start(key: string, state: PollState, ttl: number): Promise<void>;
  state(key: string): Promise<PollState | undefined>;
  /** The code's state and the previous poll's time (ms), recording `now` as the last poll. */
  /** Records this poll's time (the store's clock) and returns it with the state and the previous poll's time. */
  poll(key: string, ttl: number): Promise<{ now: number; state?: PollState; lastPollAt?: number }>;
  setState(key: string, state: PollState, ttl: number): Promise<void>;
  forget(key: string): Promise<void>;
  /**
   * The store's clock (ms), for every time compared across polls: a device's polls reach any node,
   * and the nodes' own clocks may disagree by more than the tolerance.
   */
  now(key: string): Promise<number>;
}

/**
 * Redis: one round trip per poll, the state's GET and the swap (SET … GET) leaving together
 * (auto-pipelined); the swap is atomic, so two nodes answering one device's polls see each other's.
 */
/** TIME (ms), the state, and the previous poll's time swapped for this one's (KEYS: state, last; ARGV: ttl). */
const POLL_SCRIPT = `
local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
local state = redis.call('GET', KEYS[1])
local last = redis.call('SET', KEYS[2], now, 'EX', ARGV[1], 'GET')
return { now, state, last }`;

function redisPollStore(redis: Redis, prefix: string): PollStore {
  // sent as EVALSHA once loaded (ioredis falls back to EVAL when a server does not know the script)
  redis.defineCommand('ghDevicePoll', { numberOfKeys: 2, lua: POLL_SCRIPT });
  redis.defineCommand('ghStoreTime', { numberOfKeys: 1, lua: "return redis.call('TIME')" });
  const scripts = redis as unknown as {
    ghDevicePoll(state: string, last: string, ttl: string): Promise<unknown>;
    ghStoreTime(key: string): Promise<unknown>;
  };
  const stateKey = (key: string) => `${prefix}devicePoll:${key}`;
  const lastKey = (key: string) => `${prefix}devicePollAt:${key}`;
  // a reply that is not the one due (seen from ioredis in a Cluster failover) is a store failure,
  // never "no state" nor "saved"
  const stringOrNull = (reply: unknown): string | null => {
    if (reply === null || typeof reply === 'string') return reply;
    throw new StoreReplyError('a device poll command');
  };
  const save = async (key: string, state: PollState, ttl: number) => {
    if (await redis.set(stateKey(key), JSON.stringify(state), 'EX', ttl) !== 'OK') throw new StoreReplyError('SET');
  };
  return {
    start: save,
    async state(key) {
      const state = stringOrNull(await redis.get(stateKey(key)));
      return state ? JSON.parse(state) as PollState : undefined;
    },
    // one round trip: the clock, the state and the swap of the last poll's time, in one script on
    // the server that holds the code's keys (also on a Cluster: both keys share the prefix's slot)
    async poll(key, ttl) {
      const reply: unknown = await scripts.ghDevicePoll(stateKey(key), lastKey(key), String(ttl));
      if (!Array.isArray(reply) || reply.length !== 3 || !/^\d+$/.test(String(reply[0]))) throw new StoreReplyError('device poll');
      const state = reply[1] === null || reply[1] === false ? null : stringOrNull(reply[1]);
      const last = reply[2] === null || reply[2] === false ? null : stringOrNull(reply[2]);
      return { now: Number(reply[0]), state: state ? JSON.parse(state) as PollState : undefined, lastPollAt: last ? Number(last) : undefined };
    },
    setState: save,
    async forget(key) { await redis.del(stateKey(key), lastKey(key)); },
    // TIME of the server that holds the code's keys (a script with the key is routed to it, also on
    // a Cluster): one clock for every node's polls of this code
    async now(key) {
      const reply: unknown = await scripts.ghStoreTime(stateKey(key));
      if (!Array.isArray(reply) || reply.length !== 2 || !reply.every((v) => /^\d+$/.test(String(v)))) throw new StoreReplyError('TIME');
      return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    },
  };
}

/** The embedded store: the provider's adapter (a SQL table), one record per code. */
function adapterPollStore(adapters: AdapterFactory): PollStore {
  const store = adapters('DevicePoll');
  type Stored = PollState & { lastPollAt?: number };
  const save = (key: string, value: Stored, ttl: number) => store.upsert(key, value as unknown as Record<string, unknown>, ttl);
  return {
    start: (key, state, ttl) => save(key, state, ttl),
    async state(key) {
      const stored = await store.find(key) as Stored | undefined;
      if (!stored) return undefined;
      const { lastPollAt: _, ...state } = stored;
      return state;
    },
    async poll(key, ttl) {
      const now = Date.now();
      const stored = await store.find(key) as Stored | undefined;
      if (!stored) return { now };
      const { lastPollAt, ...state } = stored;
      await save(key, { ...state, lastPollAt: now }, ttl);
      return { now, state, lastPollAt };
    },
    async setState(key, state, ttl) {
      const stored = await store.find(key) as Stored | undefined;
      await save(key, { ...stored, ...state }, ttl);
    },
    forget: (key) => store.destroy(key),
    // without Redis: one process in the embedded default (several nodes on Postgres alone compare
    // their own clocks, within POLL_TOLERANCE_MS)
    now: async () => Date.now(),
  };
}

const keyOf = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('base64url');
/** Kept past the code's own expiry, to answer expired_token rather than invalid_grant meanwhile. */
const ttlOf = (state: PollState, now: number) => Math.max(1, Math.ceil((state.expiresAt - now) / 1000)) + EXPIRED_ANSWER_SECONDS;

export function devicePolling(adapters: AdapterFactory, redis?: { client: Redis; prefix: string }): Middleware {
  const store = redis ? redisPollStore(redis.client, redis.prefix) : adapterPollStore(adapters);

  async function afterDeviceAuthorization(ctx: KoaContextWithOIDC) {
    const body = ctx.body as { device_code?: string; expires_in?: number; interval?: number };
    if (ctx.status !== 200 || !body?.device_code || !body.expires_in) return;
    body.interval = POLL_INTERVAL_SECONDS;
    const now = await store.now(keyOf(body.device_code));
    const state = { expiresAt: now + body.expires_in * 1000, interval: POLL_INTERVAL_SECONDS };
    await store.start(keyOf(body.device_code), state, ttlOf(state, now));
  }

  async function afterPoll(ctx: KoaContextWithOIDC, deviceCode: string) {
    const key = keyOf(deviceCode);
    if (ctx.status === 200) {
      // the tokens are issued and stored: a store failure now must not turn them into a 503 (the
      // device code is spent, a retry could only fail). The poll state expires on its own.
      await store.forget(key).catch((e: unknown) => { if (!backingServiceFailure(e)) throw e; });
      return;
    }
    const body = ctx.body as { error?: string; error_description?: string };
    if (body?.error !== 'authorization_pending' && body?.error !== 'invalid_grant') return;
    if (body.error === 'invalid_grant') {
      const now = await store.now(key);
      // the code is gone (or was never issued): after its lifetime, say so
      const state = await store.state(key);
      if (state && now >= state.expiresAt) {
        body.error = 'expired_token';
        body.error_description = 'the device code has expired; start the sign-in again';
      }
      return;
    }
    // a slow_down is about the last few seconds: the last poll's time need not outlive the answer window
    const { now, state, lastPollAt } = await store.poll(key, EXPIRED_ANSWER_SECONDS);
    if (!state) return;
    if (lastPollAt !== undefined && now - lastPollAt < state.interval * 1000 - POLL_TOLERANCE_MS) {
      state.interval += SLOW_DOWN_STEP_SECONDS;
      body.error = 'slow_down';
      body.error_description = `polling too often: wait at least ${state.interval} seconds between requests`;
      await store.setState(key, state, ttlOf(state, now));
    }
  }

  async function around(ctx: Parameters<Middleware>[0], next: () => Promise<unknown>) {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route === 'device_authorization') return afterDeviceAuthorization(ctx as KoaContextWithOIDC);
    const params = oidc?.route === 'token' ? oidc.params as { grant_type?: unknown; device_code?: unknown } | undefined : undefined;
    if (params?.grant_type === DEVICE_CODE_GRANT && typeof params.device_code === 'string') {
      await afterPoll(ctx as KoaContextWithOIDC, params.device_code);
    }
  }
  // Only the two endpoints it may rewrite get the extra async step.
  return (ctx, next) => (ctx.path === PROVIDER_ROUTES.token || ctx.path === PROVIDER_ROUTES.device_authorization ? around(ctx, next) : next());
}
