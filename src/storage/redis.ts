import { Redis } from 'ioredis';

/** Fail fast when Redis is down (a 503, not a hang); reconnect in the background. */
const COMMAND_TIMEOUT_MS = 2000;

export function createRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
}
