// Throttling for every credential check (rate-limiter-flexible): Redis-backed when REDIS_URL is set,
// so all nodes share counters; in memory in the single-process embedded default.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LimitSpec {
  /** key prefix */
  name: string;
  /** attempts allowed in the window; the one that uses the last point starts the block */
  points: number;
  /** window, seconds: counts older than this are forgotten */
  duration: number;
  /** how long a block lasts, seconds, counted from the attempt that started it (not the window's end) */
  blockDuration: number;
}

/**
 * Sign-in failures (OWASP Authentication Cheat Sheet: lock out guessers, never the owner).
 * - Per IP+account is tight: a guesser at one account from one place.
 * - Per account across all IPs catches a guesser spread over many addresses. It applies only to
 *   browsers without this account's device cookie (src/security/device-cookie.ts): a browser that
 *   signed in to the account before is exempt and counts its own failures (`device`), so a block
 *   somebody else causes never reaches the owner's own browser. The owner on a new device who is
 *   blocked can reset the password by email, which clears these counters.
 * - Per IP catches spraying across many accounts.
 * The counters are keyed by the typed address whether or not an account has it (no enumeration).
 */
export const LOGIN_LIMITS = {
  ipAccount: { name: 'login_ip_acct', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  account: { name: 'login_acct', points: 20, duration: 60 * 60, blockDuration: 15 * 60 },
  device: { name: 'login_device', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  ip: { name: 'login_ip', points: 100, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/**
 * Short progressive delays on failed sign-ins (OWASP): the first few failures of an account (or of
 * a device cookie) answer at once; each one after that waits twice as long, up to a cap. The
 * delay only slows a failure: the right password is never delayed.
 */
export const FAILURE_DELAY = { free: 3, firstMs: 250, maxMs: 1000 } as const;

export function failureDelayMs(failures: number): number {
  if (failures <= FAILURE_DELAY.free) return 0;
  return Math.min(FAILURE_DELAY.firstMs * 2 ** (failures - FAILURE_DELAY.free - 1), FAILURE_DELAY.maxMs);
}

/**
 * Second-factor codes (TOTP, recovery): 6-digit codes need tight limits per account. Only someone
 * with the password gets this far; the per-account limit spares a browser holding the account's
 * device cookie (it has its own), so an attacker who has the password cannot keep the owner's
 * browser out either, and a password reset clears these counters.
 */
export const MFA_LIMITS = {
  ipAccount: { name: 'mfa_ip_acct', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
  account: { name: 'mfa_acct', points: 10, duration: 60 * 60, blockDuration: 15 * 60 },
  device: { name: 'mfa_device', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/**
 * Password-reset requests: the same answer either way, but mail is not free. Per address the window
 * is short, so an attacker asking for links cannot keep the owner from asking for another for long;
 * links already mailed stay valid meanwhile (src/accounts/lifecycle.ts keeps every link this limit
 * lets through alive until used or expired). Using a link is never throttled by these.
 */
export const RESET_LIMITS = {
  ip: { name: 'reset_ip', points: 10, duration: 60 * 60, blockDuration: 60 * 60 },
  email: { name: 'reset_email', points: 3, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/**
 * Wrong current passwords on the signed-in "change password" form, per account. Whoever holds a
 * session (a stolen cookie, a shared computer) must not be able to guess the password there
 * without limit. The block only stops changing the password this way for a while: the owner can
 * still sign in, and reset the password by mail (never throttled by this).
 */
export const PASSWORD_CHANGE_LIMITS = {
  account: { name: 'password_change', points: 5, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

/** Verification mail resends per account. */
export const VERIFY_LIMITS = {
  resend: { name: 'verify_resend', points: 3, duration: 60 * 60, blockDuration: 60 * 60 },
} satisfies Record<string, LimitSpec>;

/**
 * Sign-up: per IP, and per target address (each sign-up mails the address — a code, or "someone
 * tried to create an account" — so nobody can flood one inbox from many IPs). Both count whether
 * or not the address has an account.
 */
export const SIGNUP_LIMITS = {
  ip: { name: 'signup_ip', points: 20, duration: 60 * 60, blockDuration: 60 * 60 },
  email: { name: 'signup_email', points: 3, duration: 15 * 60, blockDuration: 15 * 60 },
} satisfies Record<string, LimitSpec>;

export type LimiterFactory = (spec: LimitSpec) => RateLimiterAbstract;

/**
 * One limiter per spec name, so every handler that names a spec shares its counters (in memory
 * too: a password reset must clear the very counters sign-in reads).
 */
export function createLimiterFactory(redis?: Redis, prefix = 'gh:'): LimiterFactory {
  const made = new Map<string, RateLimiterAbstract>();
  return (spec) => {
    let limiter = made.get(spec.name);
    if (!limiter) {
      const opts = { keyPrefix: `${prefix}rl:${spec.name}`, points: spec.points, duration: spec.duration, blockDuration: spec.blockDuration };
      limiter = redis ? new RateLimiterRedis({ ...opts, storeClient: redis }) : new RateLimiterMemory(opts);
      made.set(spec.name, limiter);
    }
    return limiter;
  };
}

/**
 * Seconds until the first of these keys may try again, or 0. A key is blocked only while a block
 * runs (started by the attempt that used its last point, for blockDuration); a spent budget whose
 * block has ended is simply forgotten.
 */
export async function retryAfter(checks: Array<[RateLimiterAbstract, string]>): Promise<number> {
  let wait = 0;
  for (const [limiter, key] of checks) {
    const res = await limiter.get(key);
    if (res && res.consumedPoints > limiter.points) wait = Math.max(wait, Math.ceil(res.msBeforeNext / 1000));
  }
  return wait;
}

/**
 * Counts an attempt on each key. The attempt that uses a key's last point starts its block (for
 * blockDuration, from now); returns the seconds to wait if this attempt itself was over a limit.
 */
export async function recordFailure(checks: Array<[RateLimiterAbstract, string]>): Promise<number> {
  let wait = 0;
  for (const [limiter, key] of checks) {
    try {
      const res = await limiter.consume(key);
      if (res.remainingPoints === 0 && limiter.blockDuration > 0) await limiter.block(key, limiter.blockDuration);
    } catch (e) {
      if (e instanceof RateLimiterRes) wait = Math.max(wait, Math.ceil(e.msBeforeNext / 1000));
      else throw e;
    }
  }
  return wait;
}

/** Attempts counted on a key in its current window (or block). */
export async function countOn(limiter: RateLimiterAbstract, key: string): Promise<number> {
  return (await limiter.get(key))?.consumedPoints ?? 0;
}

/**
 * A completed password reset proves the owner: their sign-in and second-factor failures are
 * forgotten (per account, and per IP+account from where the reset was made), so the block an
 * attacker caused ends with it.
 */
export async function forgetSignInFailures(limiters: LimiterFactory, who: { email: string; userId: string; ip: string }): Promise<void> {
  await Promise.all([
    limiters(LOGIN_LIMITS.account).delete(who.email),
    limiters(LOGIN_LIMITS.ipAccount).delete(`${who.ip}|${who.email}`),
    limiters(MFA_LIMITS.account).delete(who.userId),
    limiters(MFA_LIMITS.ipAccount).delete(`${who.ip}|${who.userId}`),
  ]);
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
