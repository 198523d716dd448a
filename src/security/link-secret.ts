// A mailed link's secret (a reset or invitation token) appears in exactly one URL: the link itself.
// The page it lands on moves the secret into a short-lived HttpOnly cookie scoped to that page's
// path and sends the browser on to the same page without it, so the secret stays out of browser
// history, of every later request line, and of any Referer. The forms that follow read the cookie.
//
// Why a cookie rather than a hidden field alone: the landing URL is what a browser keeps in its
// history and what a proxy's access log records; after the redirect the address bar is clean.
import type { Context } from 'koa';

export interface LinkSecret {
  /** The token from the link's query string, if this request is the landing. */
  landing(ctx: Context): string | undefined;
  /** Keeps the token in the cookie and redirects (303) to the page's token-free path. */
  keepAndRedirect(ctx: Context, token: string): void;
  /** The kept token, or ''. */
  read(ctx: Context): string;
  /** Forgets it (after use). */
  clear(ctx: Context): void;
}

/** Short, printable, no separators: what our mail tokens look like (base64url). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,200}$/;

/**
 * cookie: its name; path: the cookie's scope (the pages that need the token); page: where the landing
 * redirects (default: path); maxAgeSeconds: no longer than the token lives.
 */
export function linkSecret(o: { cookie: string; path: string; page?: string; maxAgeSeconds: number; secure: boolean }): LinkSecret {
  const options = { httpOnly: true, sameSite: 'lax' as const, secure: o.secure, path: o.path, signed: true, overwrite: true };
  return {
    landing(ctx) {
      const token = ctx.query.token;
      return typeof token === 'string' && token !== '' ? token : undefined;
    },
    keepAndRedirect(ctx, token) {
      // a malformed token is kept as '' so the page says "expired" instead of looking it up
      ctx.cookies.set(o.cookie, TOKEN_SHAPE.test(token) ? token : '', { ...options, maxAge: o.maxAgeSeconds * 1000 });
      ctx.status = 303;
      ctx.redirect(o.page ?? o.path);
    },
    read(ctx) {
      const token = ctx.cookies.get(o.cookie, { signed: true }) ?? '';
      return TOKEN_SHAPE.test(token) ? token : '';
    },
    clear(ctx) {
      ctx.cookies.set(o.cookie, '', { ...options, maxAge: 0 });
    },
  };
}
