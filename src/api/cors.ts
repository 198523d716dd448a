// CORS for the JSON APIs: browser apps may call them from the allowed origins (the origins of
// registered redirect URIs, DESIGN.md: src/clients/client-origins.ts) and from no other origin.
import type { Context, Next } from 'koa';

/** `allowed`: the current set of allowed origins, given by the composition (src/app.ts). */
export function apiCors(allowed: () => Promise<Set<string>>) {
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    const ok = origin && (await allowed()).has(origin);
    if (ok) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Vary', 'Origin');
    }
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      if (ok) {
        ctx.set('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE');
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        ctx.set('Access-Control-Max-Age', '600');
      }
      ctx.status = 204;
      return;
    }
    await next();
  };
}
