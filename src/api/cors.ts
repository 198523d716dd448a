// CORS for the account API: browser apps may call it from the origins of registered redirect
// URIs, and from no other origin (DESIGN.md). The set is cached briefly; clients change rarely.
import type { Context, Next } from 'koa';
import type { ClientService } from '../clients/client.service.ts';

const ORIGINS_CACHE_MS = 30_000;

export function apiCors(clients: ClientService) {
  let cached: { at: number; origins: Set<string> } | undefined;
  async function allowed(): Promise<Set<string>> {
    if (!cached || Date.now() - cached.at > ORIGINS_CACHE_MS) {
      const origins = new Set<string>();
      for (const c of await clients.list()) for (const u of c.redirect_uris) { try { origins.add(new URL(u).origin); } catch { /* skip */ } }
      cached = { at: Date.now(), origins };
    }
    return cached.origins;
  }
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
