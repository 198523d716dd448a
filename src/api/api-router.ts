// The JSON APIs under /api: one CORS policy, one error shape ({ error, message } with a 4xx),
// one OpenAPI document. Each domain contributes a router.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { apiCors } from './cors.ts';
import { openApiDocument } from './openapi.ts';

/** CORS runs before routing, so preflights (which match no route) are answered too. */
export function apiCorsFor(allowedOrigins: () => Promise<Set<string>>) {
  const cors = apiCors(allowedOrigins);
  return (ctx: Context, next: Next) => (ctx.path.startsWith('/api/') ? cors(ctx, next) : next());
}

/** `routers`: each domain's API router (accounts' /me, workspaces, admin), mounted under /api. */
export function createApiRouter(deps: { issuer: string }, routers: Router[]): Router {
  const router = new Router({ prefix: '/api' });
  router.use(async (ctx, next) => { ctx.set('Cache-Control', 'no-store'); await next(); });
  router.get('/openapi.json', (ctx) => { ctx.body = openApiDocument(deps.issuer); });
  for (const r of routers) router.use(r.routes(), r.allowedMethods());
  return router;
}
