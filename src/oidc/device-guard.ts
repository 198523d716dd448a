// Throttles wrong device-flow user codes, per IP and per provider session (RFC 8628 §5.1). It runs
// in our Koa app in front of the provider. Every POST to the code page takes a point *before* the
// provider looks the code up (atomically, so a burst of parallel guesses cannot slip through
// together), and gets it back unless the code was wrong: the provider's code page
// (src/oidc/device.ts) marks the request when it found no such code. Once blocked, not even a
// right guess is answered.
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Views } from '../render/views.ts';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DEVICE_LIMITS, type LimiterFactory } from '../security/rate-limit.ts';
import { pageLanguage } from '../http/locale.ts';
import { PROVIDER_ROUTES, sessionCookieName } from './internals.ts';

const wrongCodes = new WeakSet<IncomingMessage>();

/** Called by the code page when the provider found no such code (an expired one is not wrong: src/oidc/device-expiry.ts). */
export function markWrongUserCode(req: IncomingMessage): void {
  wrongCodes.add(req);
}

export function deviceCodeGuard(deps: { provider: () => Provider; limiters: LimiterFactory; views: Views }) {
  const perIp = deps.limiters(DEVICE_LIMITS.ip);
  const perSession = deps.limiters(DEVICE_LIMITS.session);

  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || ctx.path !== PROVIDER_ROUTES.code_verification) return next();
    const session = ctx.cookies.get(sessionCookieName(deps.provider()));
    const checks: Array<[RateLimiterAbstract, string]> = [[perIp, ctx.ip || 'unknown']];
    if (session) checks.push([perSession, session]);
    const taken: typeof checks = [];
    try {
      for (const check of checks) { await check[0].consume(check[1]); taken.push(check); }
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const wait = Math.ceil(e.msBeforeNext / 1000);
      ctx.status = 429;
      ctx.set('Retry-After', String(wait));
      ctx.type = 'html';
      const lang = pageLanguage(ctx);
      const t = deps.views.i18n.translator(lang);
      ctx.body = deps.views.render('error', {
        title: t('device:throttle.title'),
        heading: t('device:throttle.title'),
        message: t('device:throttle.message', { count: Math.ceil(wait / 60) }),
        lang,
      });
      return;
    }
    try {
      await next();
    } finally {
      if (!wrongCodes.has(ctx.req)) await Promise.all(taken.map(([limiter, key]) => limiter.reward(key, 1)));
    }
  };
}
