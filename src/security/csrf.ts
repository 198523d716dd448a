// CSRF protection for every hosted form: a random token in a signed, HttpOnly, SameSite cookie,
// echoed in a hidden field and compared in constant time; plus an Origin check where browsers send one.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError } from '../errors/app-error.ts';

const COOKIE = 'gh_csrf';
export const CSRF_FIELD = '_csrf';

export function csrfToken(ctx: Context, secure: boolean): string {
  let token = ctx.cookies.get(COOKIE, { signed: true });
  if (!token || token.length !== 43) {
    token = randomBytes(32).toString('base64url');
    ctx.cookies.set(COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, signed: true, path: '/' });
  }
  return token;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a); const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Rejects a state-changing request whose form token does not match the cookie. */
export function requireCsrf(issuerOrigin: string) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method === 'POST') {
      const origin = ctx.get('origin');
      if (origin && origin !== 'null' && origin !== issuerOrigin) {
        throw new AppError(403, 'csrf', 'This form was sent from another site. Go back, reload the page and try again.');
      }
      const cookie = ctx.cookies.get(COOKIE, { signed: true });
      const body = (ctx.request as { body?: Record<string, unknown> }).body;
      const field = body?.[CSRF_FIELD];
      if (!cookie || typeof field !== 'string' || !same(cookie, field)) {
        throw new AppError(403, 'csrf', 'This form has expired. Go back, reload the page and try again.');
      }
    }
    await next();
  };
}
