// The admin API's resources (APIs): /api/admin/resources. The same operations, rules and audit
// events (resource.created|updated|deleted) as the CLI and the console; GATEHOUSE_RESOURCES entries
// are listed and shown, and refused (409 env_resource) when changed.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ResourceService } from '../resources/resource.service.ts';
import type { BearerDeps } from '../api/bearer-auth.ts';
import { auth } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { parseOr400 } from '../http/guard.ts';
import { requestOrigin } from '../audit/audit.ts';
import { addPaths } from '../api/openapi.ts';
import { requireAdmin } from './require-admin.ts';
import { RESOURCE_PATHS } from './resources.openapi.ts';

/** The body is an object; its fields are checked by the resources service (the CLI's rules too). */
const body = z.record(z.string(), z.unknown(), { error: 'Send a JSON object.' });
const INVALID = 'invalid_resource';

export interface ResourceApiDeps extends BearerDeps {
  resources: ResourceService;
}

export function createResourceApiRouter(deps: ResourceApiDeps): Router {
  addPaths(RESOURCE_PATHS);
  const router = new Router({ prefix: '/admin/resources' });
  const { resources } = deps;
  router.use(requireAdmin({ oidc: deps.oidc, accounts: deps.accounts }));
  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, clientId: auth(ctx).clientId, ...requestOrigin(ctx) });

  router.get('/', async (ctx) => { ctx.body = await resources.list(); });
  router.post('/', jsonBody(), async (ctx) => {
    ctx.body = await resources.create(parseOr400(body, ctx.request.body, 'body', INVALID) as never, 'api', origin(ctx));
    ctx.status = 201;
  });
  router.get('/:ref', async (ctx) => { ctx.body = await resources.show(ctx.params.ref!); });
  router.patch('/:ref', jsonBody(), async (ctx) => {
    ctx.body = await resources.update(ctx.params.ref!, parseOr400(body, ctx.request.body, 'body', INVALID) as never, origin(ctx));
  });
  router.delete('/:ref', async (ctx) => {
    await resources.remove(ctx.params.ref!, origin(ctx));
    ctx.status = 204;
  });
  return router;
}
