// Device cookies (OWASP Authentication Cheat Sheet, "device cookies"): after a complete sign-in
// (password and, when the account has one, the second factor) the browser gets a cookie that names
// the account without saying which — a random id and an HMAC of id and address under a key derived
// from GATEHOUSE_SECRET. A browser presenting a valid one for the address it signs in with is
// "known": the per-account lockout (all IPs) does not apply to it, only a limit of its own
// (LOGIN_LIMITS.device, MFA_LIMITS.device). So guessers elsewhere can block the account for new
// browsers, never for the owner's. The cookie grants nothing else: the password is still checked.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { deriveKey } from './secretbox.ts';

export const DEVICE_COOKIE = 'gh_device';
/** A browser remembered for half a year keeps its exemption across ordinary gaps between sign-ins. */
const DEVICE_COOKIE_MAX_AGE_MS = 180 * 24 * 3600 * 1000;
/** A browser shared by a household or a few work accounts: a few entries, the newest first. */
const MAX_ACCOUNTS_PER_BROWSER = 5;
const ENTRY = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

export interface DeviceCookies {
  /** The id of this browser's device cookie for that (normalized) address, if it holds a valid one. */
  idFor(ctx: Context, emailNormalized: string): string | undefined;
  /** After a complete sign-in: remember this browser for that address. */
  remember(ctx: Context, emailNormalized: string): void;
}

export function createDeviceCookies(opts: { secret: string; secure: boolean }): DeviceCookies {
  const key = deriveKey(opts.secret, 'gatehouse device cookies');
  const tag = (id: string, email: string) => createHmac('sha256', key).update(`${id}\n${email}`).digest('base64url');

  const entries = (ctx: Context): string[] => (ctx.cookies.get(DEVICE_COOKIE) ?? '').split('~').filter((e) => ENTRY.test(e)).slice(0, MAX_ACCOUNTS_PER_BROWSER);

  function match(entry: string, email: string): string | undefined {
    const [id, given] = entry.split('.') as [string, string];
    const expected = Buffer.from(tag(id, email));
    return timingSafeEqual(expected, Buffer.from(given)) ? id : undefined;
  }

  return {
    idFor(ctx, email) {
      for (const entry of entries(ctx)) {
        const id = match(entry, email);
        if (id) return id;
      }
      return undefined;
    },
    remember(ctx, email) {
      const others = entries(ctx).filter((e) => !match(e, email));
      const id = randomBytes(16).toString('base64url');
      const value = [`${id}.${tag(id, email)}`, ...others].slice(0, MAX_ACCOUNTS_PER_BROWSER).join('~');
      ctx.cookies.set(DEVICE_COOKIE, value, {
        httpOnly: true, secure: opts.secure, sameSite: 'lax', path: '/', maxAge: DEVICE_COOKIE_MAX_AGE_MS, signed: false, overwrite: true,
      });
    },
  };
}
