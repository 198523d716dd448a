// The Redis connection: one server (REDIS_URL), a Sentinel-managed primary, or a Cluster.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * A command on a connection that stopped answering (no reset, no reply) fails after this: the most
 * a frozen Redis costs a request (docs/operations.md promises about 2 s), and well above a healthy
 * round trip under load (milliseconds).
 */
export const COMMAND_TIMEOUT_MS = 2000;
/**
 * A connection that has not answered for this long after a write is closed (ioredis's
 * socketTimeout), and the client reconnects in the background: until it is ready again every
 * command fails at once (the offline queue is off, see failFastOnceReady). So a frozen Redis costs
 * one timeout, to the first request that meets it, not one per command: a request that goes on to
 * another command (an error path that writes, a second lookup) gets its 503 at once, and so do the
 * requests after it. The same as the command timeout: a reply that late is one we no longer wait for.
 */
const SOCKET_TIMEOUT_MS = COMMAND_TIMEOUT_MS;
/** Reconnect soon after Redis comes back, without hammering it while it is away. */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 1000;

export interface RedisTopology {
  /** GATEHOUSE_REDIS_SENTINELS: host:port of each sentinel; REDIS_URL's host names the primary group. */
  sentinels?: Array<{ host: string; port: number }>;
  /** GATEHOUSE_REDIS_CLUSTER: REDIS_URL names one seed node; the rest are discovered. */
  cluster?: boolean;
}

function connectionOptions(url: URL): RedisOptions {
  return {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Fail fast when Redis is down, so a request gets a 503 at once instead of waiting in a queue:
 * the offline queue covers start-up only. Once connected, a command sent while the connection is
 * down is rejected immediately; the client keeps reconnecting in the background.
 */
function failFastOnceReady(client: Redis | Cluster): void {
  client.once('ready', () => { client.options.enableOfflineQueue = false; });
}

/**
 * The deployment's Redis as its configuration describes it (REDIS_URL, GATEHOUSE_REDIS_SENTINELS,
 * GATEHOUSE_REDIS_CLUSTER): the server and the operator CLI both open it here, so a command reaches
 * the same keys the server writes. Undefined without REDIS_URL.
 */
export function openConfiguredRedis(config: { redisUrl?: string; redisTopology: RedisTopology }): Redis | undefined {
  return config.redisUrl ? createRedis(config.redisUrl, config.redisTopology) : undefined;
}

export function createRedis(url: string, topology: RedisTopology = {}): Redis {
  const common = {
    // Commands that concurrent requests send in the same tick leave in one write: under load, far
    // fewer system calls per request (on a virtual machine a write(2) costs tens of microseconds).
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // A command whose caller was already told it failed (timed out, connection lost) must not run
    // later, when the connection is back: ioredis would otherwise send it again after reconnecting.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(times * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
  } satisfies RedisOptions;

  if (topology.cluster) {
    const seed = new URL(url);
    const { tls, ...auth } = connectionOptions(seed);
    const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
      redisOptions: { ...auth, tls, ...common, db: undefined },
      enableOfflineQueue: true,
      enableAutoPipelining: true,
      clusterRetryStrategy: common.retryStrategy,
    });
    failFastOnceReady(cluster);
    // The commands we use exist on both; src/config/index.ts puts every key in one hash slot.
    return cluster as unknown as Redis;
  }

  let client: Redis;
  if (topology.sentinels?.length) {
    const parsed = new URL(url);
    client = new Redis({
      ...connectionOptions(parsed),
      ...common,
      sentinels: topology.sentinels,
      name: parsed.hostname,
      sentinelRetryStrategy: common.retryStrategy,
    });
  } else {
    client = new Redis(url, common);
  }
  failFastOnceReady(client);
  return client;
}
