// Throttling for every credential check (rate-limiter-flexible): Redis-backed when REDIS_URL is set,
// so all nodes share counters; in memory in the single-process embedded default.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimitSpec {
  /** key prefix */
  name: string;
  /** failures allowed in the window */
  points: number;
  /** window, seconds */
  duration: number;
  /** how long to block once exhausted, seconds */
  blockDuration: number;
}

/**
 * Sign-in failures. Per IP+account is tight (a guesser at one account from one place); per account
 * across all IPs is loose and blocks only briefly, so an attacker elsewhere cannot lock the owner out
 * for long; per IP catches spraying across many accounts.
 */
export const LOGIN_LIMITS = {
  ipAccount: { name: 'login_ip_acct', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  account: { name: 'login_acct', points: 20, duration: 60 * 60, blockDuration: 5 * 60 },
  ip: { name: 'login_ip', points: 100, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/** Second-factor codes (TOTP, recovery): 6-digit codes need tight limits per account. */
export const MFA_LIMITS = {
  ipAccount: { name: 'mfa_ip_acct', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  account: { name: 'mfa_acct', points: 10, duration: 60 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/** Password-reset requests: the same answer either way, but mail is not free. */
export const RESET_LIMITS = {
  ip: { name: 'reset_ip', points: 10, duration: 60 * 60, blockDuration: 60 * 60 },
  email: { name: 'reset_email', points: 3, duration: 60 * 60, blockDuration: 60 * 60 },
} satisfies Record<string, LimitSpec>;

/** Verification mail resends per account. */
export const VERIFY_LIMITS = {
  resend: { name: 'verify_resend', points: 3, duration: 60 * 60, blockDuration: 60 * 60 },
} satisfies Record<string, LimitSpec>;

export const SIGNUP_LIMITS = {
  ip: { name: 'signup_ip', points: 20, duration: 60 * 60, blockDuration: 60 * 60 },
} satisfies Record<string, LimitSpec>;

export type LimiterFactory = (spec: LimitSpec) => RateLimiterAbstract;

export function createLimiterFactory(redis?: Redis, prefix = 'gh:'): LimiterFactory {
  return (spec) => {
    const opts = { keyPrefix: `${prefix}rl:${spec.name}`, points: spec.points, duration: spec.duration, blockDuration: spec.blockDuration };
    return redis ? new RateLimiterRedis({ ...opts, storeClient: redis }) : new RateLimiterMemory(opts);
  };
}

/** Seconds until the first of these keys may try again, or 0. */
export async function retryAfter(checks: Array<[RateLimiterAbstract, string]>): Promise<number> {
  let wait = 0;
  for (const [limiter, key] of checks) {
    const res = await limiter.get(key);
    if (res && res.remainingPoints <= 0) wait = Math.max(wait, Math.ceil(res.msBeforeNext / 1000));
  }
  return wait;
}

/** Counts a failure on each key; returns the seconds to wait if one is now exhausted. */
export async function recordFailure(checks: Array<[RateLimiterAbstract, string]>): Promise<number> {
  let wait = 0;
  for (const [limiter, key] of checks) {
    try {
      await limiter.consume(key);
    } catch (e) {
      if (e instanceof RateLimiterRes) wait = Math.max(wait, Math.ceil(e.msBeforeNext / 1000));
      else throw e;
    }
  }
  return wait;
}

/**
 * Invitations send mail to addresses the inviter chooses: per inviting account and hour, on top of
 * the cap on open invitations per workspace (src/workspaces/invitation.service.ts), so that nobody
 * can turn workspaces into a mailing machine.
 */
export const INVITE_LIMITS = {
  inviter: { name: 'invite_user', points: 50, duration: 60 * 60, blockDuration: 60 * 60 },
} satisfies Record<string, LimitSpec>;

/**
 * Wrong device-flow user codes (RFC 8628 §5.1). Per provider session is tight: a person mistypes
 * once or twice, a guesser keeps going. Per IP is looser, since a whole office may share one address.
 */
export const DEVICE_LIMITS = {
  session: { name: 'device_code_session', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  ip: { name: 'device_code_ip', points: 20, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;
