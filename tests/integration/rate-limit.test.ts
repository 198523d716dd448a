// Throttling against real Redis: failures count per key, a block answers with a wait, one key's
// block does not touch another, and counters are shared by every node (one Redis).
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  createLimiterFactory, forgetSignInFailures, recordFailure, retryAfter, LOGIN_LIMITS, MFA_LIMITS, RESET_LIMITS, type LimitSpec,
} from '../../src/security/rate-limit.ts';
import { MAX_LIVE_RESET_LINKS, RESET_TTL } from '../../src/accounts/lifecycle.ts';
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
    expect(wait).toBeGreaterThan(LOGIN_LIMITS.ipAccount.blockDuration - 5);
    expect(wait).toBeLessThanOrEqual(LOGIN_LIMITS.ipAccount.blockDuration);
    // trying anyway is refused for what is left of the block, and does not renew it
    const again = await recordFailure([[nodeA, key]]);
    expect(again).toBeGreaterThan(0);
    expect(again).toBeLessThanOrEqual(wait);
    expect(await retryAfter([[nodeA, '10.0.0.1|other@example.test']])).toBe(0);
    expect(await retryAfter([[nodeA, '10.0.0.2|victim@example.test']])).toBe(0);
  });

  it('blocks the account across IPs only briefly (an attacker cannot lock the owner out for long)', () => {
    expect(LOGIN_LIMITS.account.blockDuration).toBeLessThanOrEqual(15 * 60);
    expect(LOGIN_LIMITS.account.points).toBeGreaterThan(LOGIN_LIMITS.ipAccount.points);
  });

  // The old reading: "points used up" meant blocked until the *window* ended (an hour for the
  // per-account limits), whatever blockDuration said.
  for (const [label, spec] of [['sign-in per account', LOGIN_LIMITS.account], ['second factor per account', MFA_LIMITS.account], ['reset per address', RESET_LIMITS.email]] as Array<[string, LimitSpec]>) {
    for (const store of ['Redis', 'memory'] as const) {
      it(`a spent ${label} budget blocks for blockDuration, not until the window ends (${store})`, async () => {
        const limiter = createLimiterFactory(store === 'Redis' ? redis : undefined, `t${randomBytes(4).toString('hex')}:`)(spec);
        const key = 'victim@example.test';
        for (let i = 0; i < spec.points - 1; i++) await recordFailure([[limiter, key]]);
        expect(await retryAfter([[limiter, key]])).toBe(0);
        await recordFailure([[limiter, key]]);
        const wait = await retryAfter([[limiter, key]]);
        expect(wait).toBeGreaterThan(spec.blockDuration - 5);
        expect(wait).toBeLessThanOrEqual(spec.blockDuration);
      });
    }
  }

  it('hands every caller of one spec the same limiter, so counters are shared in memory too', () => {
    const factory = createLimiterFactory();
    expect(factory(LOGIN_LIMITS.account)).toBe(factory(LOGIN_LIMITS.account));
  });

  it('forgets the sign-in and second-factor failures of an account after a password reset', async () => {
    for (const store of [redis, undefined]) {
      const limiters = createLimiterFactory(store, `t${randomBytes(4).toString('hex')}:`);
      const who = { email: 'owner@example.test', userId: '00000000-0000-4000-8000-000000000001', ip: '10.0.0.9' };
      const checks: Array<[ReturnType<typeof limiters>, string]> = [
        [limiters(LOGIN_LIMITS.account), who.email], [limiters(LOGIN_LIMITS.ipAccount), `${who.ip}|${who.email}`],
        [limiters(MFA_LIMITS.account), who.userId], [limiters(MFA_LIMITS.ipAccount), `${who.ip}|${who.userId}`],
      ];
      for (let i = 0; i < LOGIN_LIMITS.account.points; i++) await recordFailure(checks);
      for (const check of checks) expect(await retryAfter([check])).toBeGreaterThan(0);
      await forgetSignInFailures(limiters, who);
      for (const check of checks) expect(await retryAfter([check])).toBe(0);
    }
  });

  it('keeps every reset link the per-address limit lets through alive for its whole lifetime', () => {
    // the worst case: a window with points - 1 requests ending as a lifetime starts, then full periods
    const period = Math.min(RESET_LIMITS.email.duration, RESET_LIMITS.email.blockDuration);
    const worst = (RESET_LIMITS.email.points - 1) + RESET_LIMITS.email.points * Math.ceil(RESET_TTL / period);
    expect(MAX_LIVE_RESET_LINKS).toBeGreaterThanOrEqual(worst);
    expect(MAX_LIVE_RESET_LINKS).toBeGreaterThanOrEqual(3);
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
