// GATEHOUSE_AUTHORIZE_POST (docs/configuration.md): form POSTs at the authorization and end-session
// endpoints. A form POST from the app's site to ours is a cross-site request, and browsers send a
// SameSite=Lax cookie only on cross-site GET navigations: without the session cookie the user would
// be asked to sign in again every time, so oidc-provider allows POST only with a SameSite=None
// session cookie, and browsers keep a SameSite=None cookie only when it is Secure.
// The trade-off: a SameSite=None session cookie rides along on every cross-site request to the
// issuer (including ones from frames and scripts), so the hosted pages rely on their CSRF tokens and
// frame-ancestors 'none' alone, and browsers that block third-party cookies may still drop it.
import type { Middleware } from 'koa';
import type { Config } from '../config/index.ts';

export interface SessionCookieOptions { sameSite: 'lax' | 'none'; secure: boolean }

/** The session ("long") cookie's attributes. */
export function sessionCookieOptions(config: Pick<Config, 'issuer' | 'authorizePost'>): SessionCookieOptions {
  const https = config.issuer.startsWith('https:');
  return config.authorizePost ? { sameSite: 'none', secure: true } : { sameSite: 'lax', secure: https };
}

/**
 * On a loopback http issuer (development, a local conformance run; the configuration refuses any
 * other http issuer with POST on) the Secure cookies must still be written: browsers treat
 * http://localhost as a secure context and keep them, but Koa refuses to set a Secure cookie on a
 * plain connection unless the request counts as secure.
 */
export function loopbackSecureCookies(config: Pick<Config, 'issuer' | 'authorizePost'>): Middleware | undefined {
  if (!config.authorizePost || config.issuer.startsWith('https:')) return undefined;
  return (ctx, next) => {
    Object.defineProperty(ctx.request, 'secure', { value: true, configurable: true });
    return next();
  };
}
