// The JSON APIs under /api: one CORS policy, one error shape ({ error, message } with a 4xx),
// one OpenAPI document. Each domain contributes a router.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { ApiDeps } from './api-deps.ts';
import { apiCors } from './cors.ts';
import { createMeRouter } from '../accounts/me.api.ts';
import { openApiDocument } from './openapi.ts';

/** CORS runs before routing, so preflights (which match no route) are answered too. */
export function apiCorsFor(deps: ApiDeps) {
  const cors = apiCors(deps.container.clients, deps.container.clientChanges);
  return (ctx: Context, next: Next) => (ctx.path.startsWith('/api/') ? cors(ctx, next) : next());
}

export function createApiRouter(deps: ApiDeps, extra: Router[] = []): Router {
  const router = new Router({ prefix: '/api' });
  router.use(async (ctx, next) => { ctx.set('Cache-Control', 'no-store'); await next(); });
  router.get('/openapi.json', (ctx) => { ctx.body = openApiDocument(deps.container.config.issuer); });
  for (const r of [createMeRouter(deps), ...extra]) router.use(r.routes(), r.allowedMethods());
  return router;
}
