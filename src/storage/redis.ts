// The Redis connection: one server (REDIS_URL), a Sentinel-managed primary, or a Cluster.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A command on a connection that stopped answering (no reset, no reply) fails after this. */
const COMMAND_TIMEOUT_MS = 2000;
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

export function createRedis(url: string, topology: RedisTopology = {}): Redis {
  const common = {
    // Commands that concurrent requests send in the same tick leave in one write: under load, far
    // fewer system calls per request (on a virtual machine a write(2) costs tens of microseconds).
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
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
