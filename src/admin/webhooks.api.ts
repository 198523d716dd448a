// The admin API's webhook endpoints under /api/admin/webhooks: CRUD, rotate-secret, enable/disable,
// test (a ping), the delivery log (paged) and replay of failed messages. Admin role + admin scope
// (the admin router's gate, src/admin/require-admin.ts, runs first); every input through zod; every
// change audited by the management layer (src/admin/webhooks.manage.ts) with the admin as actor.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { auth, type BearerDeps } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { guard, guarded } from '../http/guard.ts';
import { requestOrigin } from '../audit/audit.ts';
import { addPaths, addWebhooks } from '../api/openapi.ts';
import { WEBHOOK_PATHS, webhookSection } from './webhooks.openapi.ts';
import { requireAdmin } from './require-admin.ts';
import { MAX_DESCRIPTION, MAX_EVENTS, MAX_URL, type WebhookAdmin } from './webhooks.manage.ts';

const url = z.string().trim().min(1, 'url is required').max(MAX_URL, `url: at most ${MAX_URL} characters`);
const eventList = z.array(z.string().trim().min(1).max(100), { message: 'events must be a list of event types' })
  .min(1, 'events: name at least one event type').max(MAX_EVENTS, `events: at most ${MAX_EVENTS}`);
const workspace = z.string().trim().min(1).max(100);
const description = z.string().trim().max(MAX_DESCRIPTION, `description: at most ${MAX_DESCRIPTION} characters`);

const newEndpoint = z.object({ url, events: eventList, workspace: workspace.optional(), description: description.optional() }).strict();
const endpointPatch = z.object({ url, events: eventList, workspace: workspace.nullable(), description }).partial().strict()
  .refine((p) => Object.keys(p).length > 0, 'Send at least one field to change.');
const page = z.object({
  limit: z.coerce.number().int().min(1, 'limit must be 1 to 100').max(100, 'limit must be 1 to 100').default(20),
  offset: z.coerce.number().int().min(0, 'offset must be 0 or more').max(1_000_000).default(0),
}).strict();
const replay = z.object({
  since: z.iso.datetime({ offset: true, message: 'since must be an ISO 8601 date-time' }).optional(),
}).strict();
const idParams = z.object({ id: z.string() });

export interface WebhookApiDeps extends BearerDeps { webhooks: WebhookAdmin }

/** Mounted beside the admin router under /api, with the same gate of its own. */
export function createWebhookAdminRouter(deps: WebhookApiDeps): Router {
  addPaths(WEBHOOK_PATHS);
  addWebhooks(webhookSection());
  const router = new Router({ prefix: '/admin/webhooks' });
  router.use(requireAdmin({ oidc: deps.oidc, accounts: deps.accounts }));
  const { webhooks } = deps;
  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, clientId: auth(ctx).clientId, ...requestOrigin(ctx) });
  const id = (ctx: Context) => guarded(ctx, { params: idParams }).params.id;
  const withId = guard({ params: idParams });

  router.get('/', async (ctx) => { ctx.body = { endpoints: await webhooks.list() }; });
  router.get('/event-types', async (ctx) => { ctx.body = { event_types: webhooks.eventTypes() }; });
  router.post('/', jsonBody(), guard({ body: newEndpoint }), async (ctx) => {
    ctx.status = 201;
    ctx.body = await webhooks.create(guarded(ctx, { body: newEndpoint }).body, origin(ctx));
  });
  router.get('/:id', withId, async (ctx) => { ctx.body = await webhooks.show(id(ctx)); });
  router.patch('/:id', withId, jsonBody(), guard({ body: endpointPatch, params: idParams }), async (ctx) => {
    ctx.body = await webhooks.update(id(ctx), guarded(ctx, { body: endpointPatch }).body, origin(ctx));
  });
  router.delete('/:id', withId, async (ctx) => { await webhooks.remove(id(ctx), origin(ctx)); ctx.status = 204; });
  router.post('/:id/rotate-secret', withId, async (ctx) => { ctx.body = await webhooks.rotateSecret(id(ctx), origin(ctx)); });
  router.post('/:id/enable', withId, async (ctx) => { ctx.body = await webhooks.enable(id(ctx), origin(ctx)); });
  router.post('/:id/disable', withId, async (ctx) => { ctx.body = await webhooks.disable(id(ctx), origin(ctx)); });
  router.post('/:id/test', withId, async (ctx) => { ctx.body = await webhooks.test(id(ctx)); });
  router.get('/:id/deliveries', guard({ query: page, params: idParams }), async (ctx) => {
    ctx.body = await webhooks.deliveries(id(ctx), guarded(ctx, { query: page }).query);
  });
  router.post('/:id/replay', withId, jsonBody(), guard({ body: replay, params: idParams }), async (ctx) => {
    const { since } = guarded(ctx, { body: replay }).body;
    ctx.body = await webhooks.replay(id(ctx), { since: since ? new Date(since) : undefined }, origin(ctx));
  });
  return router;
}
