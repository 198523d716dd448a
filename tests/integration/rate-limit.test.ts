// Throttling against real Redis: failures count per key, a block answers with a wait, one key's
// block does not touch another, and counters are shared by every node (one Redis).
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLimiterFactory, recordFailure, retryAfter, LOGIN_LIMITS } from '../../src/security/rate-limit.ts';
import { requireReal } from '../support/env.ts';

const redis = new Redis(requireReal().redisUrl);
afterAll(async () => { await redis.quit(); });

describe('rate limits on Redis', () => {
  it('blocks an IP+account after five failures, tells how long, and leaves other accounts alone', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    const nodeA = createLimiterFactory(redis, prefix)(LOGIN_LIMITS.ipAccount);
    const nodeB = createLimiterFactory(redis, prefix)(LOGIN_LIMITS.ipAccount); // a second node, same Redis
    const key = '10.0.0.1|victim@example.test';
    for (let i = 0; i < 4; i++) expect(await recordFailure([[i % 2 ? nodeA : nodeB, key]])).toBe(0);
    expect(await retryAfter([[nodeA, key]])).toBe(0);
    await recordFailure([[nodeB, key]]); // the fifth: the budget is spent
    const wait = await retryAfter([[nodeA, key]]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(LOGIN_LIMITS.ipAccount.duration);
    // trying anyway extends it to the full block
    expect(await recordFailure([[nodeA, key]])).toBeGreaterThan(LOGIN_LIMITS.ipAccount.blockDuration - 5);
    expect(await retryAfter([[nodeA, '10.0.0.1|other@example.test']])).toBe(0);
    expect(await retryAfter([[nodeA, '10.0.0.2|victim@example.test']])).toBe(0);
  });

  it('blocks the account across IPs only briefly (an attacker cannot lock the owner out for long)', () => {
    expect(LOGIN_LIMITS.account.blockDuration).toBeLessThanOrEqual(5 * 60);
    expect(LOGIN_LIMITS.account.points).toBeGreaterThan(LOGIN_LIMITS.ipAccount.points);
  });

  it('forgets the IP+account failures after a success', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    const limiter = createLimiterFactory(redis, prefix)(LOGIN_LIMITS.ipAccount);
    const key = '10.0.0.3|user@example.test';
    for (let i = 0; i < 4; i++) await recordFailure([[limiter, key]]);
    await limiter.delete(key);
    expect(await recordFailure([[limiter, key]])).toBe(0);
  });
});
