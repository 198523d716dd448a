// An https issuer's browser-facing pages only over https. Gatehouse never terminates TLS itself
// (src/server.ts listens with node:http alone): with an https issuer it stands behind a proxy that
// does, and learns that a request came over https from that proxy's X-Forwarded-Proto, read only
// when GATEHOUSE_TRUST_PROXY says the proxy is trusted. A request that arrives without it (trust
// not configured, or someone reaching Gatehouse's port around the proxy) is plain http: its
// session, sign-in and CSRF cookies are Secure, which Koa refuses to set over plain http (a 500
// on every page that sets one), and a browser page served over http would expose passwords and
// cookies anyway. Such a request gets a clear 421 (RFC 9110 §15.5.20: this server will not answer
// for the http scheme of its https URLs), a page for a browser, JSON otherwise.
//
// Not a redirect to https: when the proxy is in front but not trusted, the browser is already on
// https, and a redirect would send it round in a loop.
//
// Endpoints that set no cookie and are called by machines, often over plain http inside the
// network, keep working: health probes, metrics, discovery and the JWKS, the token, userinfo,
// introspection and revocation endpoints, device authorization and pushed authorization requests
// (the provider's paths, src/oidc/fast-path.ts MACHINE_PATHS, handed over by src/app.ts), the
// bearer-token APIs and static assets.
import type { Context, Next } from 'koa';
import { redactTokens } from './middleware.ts';
import type { Logger } from 'pino';
import type { Views } from '../render/views.ts';
import { renderErrorPage } from './error-page.ts';

/** Status for a browser endpoint of an https issuer reached over plain http. */
export const NOT_OVER_HTTPS_STATUS = 421;

/** Called by machines, set no cookie: answered whatever the scheme (with the provider's machine paths). */
const MACHINE_PATHS = new Set(['/healthz', '/healthz/stores', '/readyz', '/metrics']);
const MACHINE_PREFIXES = ['/.well-known/', '/api/', '/assets/'];

/**
 * `providerMachinePaths`: the provider's endpoints machines call (token, introspection, revocation,
 * userinfo, JWKS, discovery, device authorization, pushed authorization requests).
 */
export function requireHttps(issuer: string, views: Views, log: Logger, providerMachinePaths: Iterable<string>) {
  const origin = new URL(issuer);
  if (origin.protocol !== 'https:') return async (_ctx: Context, next: Next) => { await next(); };
  const machinePaths = new Set([...providerMachinePaths, ...MACHINE_PATHS]);
  const answeredOverPlainHttp = (path: string) => machinePaths.has(path) || MACHINE_PREFIXES.some((p) => path.startsWith(p));
  let warned = false;
  return async (ctx: Context, next: Next) => {
    if (ctx.secure || answeredOverPlainHttp(ctx.path)) return next();
    if (!warned) {
      warned = true; // once per process: the request log counts every one (status 421)
      log.warn({ path: redactTokens(ctx.path), trustProxy: ctx.app.proxy }, 'a browser request reached Gatehouse over plain http, though the issuer is https: '
        + 'it must come through the TLS proxy, and GATEHOUSE_TRUST_PROXY must trust that proxy (its X-Forwarded-Proto); answered 421');
    }
    const message = `This page is served over https only. Open ${origin.origin} in your browser.`;
    ctx.status = NOT_OVER_HTTPS_STATUS;
    if (ctx.accepts('json', 'html') === 'html') {
      renderErrorPage(views, ctx, NOT_OVER_HTTPS_STATUS, (t) => ({
        title: t('errors:heading.https'), heading: t('errors:heading.https'), message: t('errors:message.https', { origin: origin.origin }),
      }));
    } else {
      ctx.body = { error: 'invalid_request', error_description: message };
    }
  };
}
