// The admin API's upstream identity providers: /api/admin/providers. The same service, rules and
// audit events (provider.created|updated|deleted, in the change's transaction) as the CLI and the
// console. Secrets go in (client_secret) and never come out (has_client_secret).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ProviderService } from '../upstream/provider.service.ts';
import type { BearerDeps } from '../api/bearer-auth.ts';
import { auth } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { guard, guarded, parseOr400 } from '../http/guard.ts';
import { requestOrigin } from '../audit/audit.ts';
import { addPaths } from '../api/openapi.ts';
import { requireAdmin } from './require-admin.ts';
import { PROVIDER_PATHS } from './providers.openapi.ts';

/** The body is an object; its fields are checked by the registry's schema (the CLI's rules too). */
const body = z.record(z.string(), z.unknown(), { error: 'Send a JSON object.' });
const removal = z.object({ force: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });
const INVALID = 'invalid_provider';

export interface ProviderApiDeps extends BearerDeps {
  providers: ProviderService;
}

export function createProviderApiRouter(deps: ProviderApiDeps): Router {
  addPaths(PROVIDER_PATHS);
  const router = new Router({ prefix: '/admin/providers' });
  const { providers } = deps;
  router.use(requireAdmin({ oidc: deps.oidc, accounts: deps.accounts }));
  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, clientId: auth(ctx).clientId, ...requestOrigin(ctx) });

  router.get('/', async (ctx) => { ctx.body = await providers.list(); });
  router.post('/', jsonBody(), async (ctx) => {
    ctx.body = await providers.create(parseOr400(body, ctx.request.body, 'body', INVALID) as never, origin(ctx), 'api');
    ctx.status = 201;
  });
  router.get('/:name', async (ctx) => { ctx.body = await providers.show(ctx.params.name!); });
  router.get('/:name/impact', async (ctx) => { ctx.body = await providers.impact(ctx.params.name!); });
  router.patch('/:name', jsonBody(), async (ctx) => {
    ctx.body = await providers.update(ctx.params.name!, parseOr400(body, ctx.request.body, 'body', INVALID) as never, origin(ctx));
  });
  router.delete('/:name', guard({ query: removal }), async (ctx) => {
    const { force } = guarded(ctx, { query: removal }).query;
    ctx.body = await providers.remove(ctx.params.name!, { force }, origin(ctx));
  });
  return router;
}
