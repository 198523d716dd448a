// The console's webhook pages, mounted on the admin console's router behind its gate (admin role,
// MFA, CSRF on every form; src/admin/console.pages.ts):
//   GET /admin/webhooks · GET|POST /admin/webhooks/new · GET /admin/webhooks/:id (the delivery log, paged)
//   GET|POST …/:id/edit · GET|POST …/:id/delete (a confirmation that says what happens)
//   POST …/:id/{rotate-secret,test,enable,disable,replay}
// The secret is on the page that answers "Add" and "Rotate secret" only, never in a URL.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import type { PageRenderer } from '../http/page.ts';
import type { WebhookOrigin } from '../webhooks/webhook.service.ts';
import { ALL_EVENTS, MAX_DESCRIPTION, MAX_URL, type EndpointFields, type WebhookAdmin } from './webhooks.manage.ts';

const LOG_PAGE_SIZE = 25;
/** Past any real page; a larger number is someone typing, not paging. */
const MAX_PAGE = 100_000;
/**
 * The checkbox of each event type is its own field, `event:user:created`: hosted forms refuse a
 * repeated name, and the form parser would read the dot of `user.created` as nesting.
 */
const EVENT_FIELD = 'event:';
const fieldOfEvent = (type: string) => EVENT_FIELD + type.replaceAll('.', ':');
const eventOfField = (field: string) => field.slice(EVENT_FIELD.length).replaceAll(':', '.');

/** The one-line notices after a POST, by key: only a key travels in the URL, only these words show. */
const NOTICES = {
  updated: 'Endpoint saved.',
  deleted: 'Endpoint deleted.',
  enabled: 'Endpoint enabled: deliveries resume. Replay failed messages to send what was missed.',
  disabled: 'Endpoint disabled: nothing is sent until it is enabled again.',
  replayed: 'Failed messages queued again.',
} as const;
type Notice = keyof typeof NOTICES;
const noticeOf = (key: unknown) => (typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : undefined);

const pageNo = z.preprocess((v) => Math.max(1, Math.min(MAX_PAGE, Number.parseInt(String(v ?? '1'), 10) || 1)), z.number());
const detailQuery = z.object({ page: pageNo, done: z.string().max(20).optional() });
const endpointForm = z.object({
  url: z.string().trim().max(MAX_URL, `The URL is longer than ${MAX_URL} characters.`).default(''),
  workspace: z.string().trim().max(100).default(''),
  description: z.string().trim().max(MAX_DESCRIPTION, `The description is longer than ${MAX_DESCRIPTION} characters.`).default(''),
}).catchall(z.string());

interface FormValues { url: string; events: string[]; workspace: string; description: string }

export interface WebhookConsoleDeps {
  webhooks: WebhookAdmin;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => WebhookOrigin;
  retentionDays: number;
}

/** Adds the webhook pages to the console's router (after its gate). */
export function addWebhookConsole(router: Router, deps: WebhookConsoleDeps): void {
  const { webhooks, render, form, origin } = deps;
  const eventTypes = () => webhooks.eventTypes();
  const back = (ctx: Context, path: string, done: Notice) => { ctx.redirect(`${path}?done=${done}`); ctx.status = 303; };

  const valuesOf = (body: Record<string, string>): FormValues => ({
    url: body.url ?? '', workspace: body.workspace ?? '', description: body.description ?? '',
    events: Object.keys(body).filter((k) => k.startsWith(EVENT_FIELD)).map(eventOfField),
  });
  const renderForm = (ctx: Context, values: FormValues, opts: { endpoint?: { id: string }; error?: string } = {}) =>
    render(ctx, 'webhook-form', { title: opts.endpoint ? 'Edit webhook endpoint' : 'Add webhook endpoint', values, eventTypes: eventTypes(), allEvents: ALL_EVENTS, fieldOf: fieldOfEvent, ...opts }, opts.error ? 400 : 200);

  /** A refusal the person can fix (bad URL, unknown workspace) shows on the form with what they typed. */
  async function orForm<T>(ctx: Context, values: FormValues, endpoint: { id: string } | undefined, work: () => Promise<T>): Promise<T | undefined> {
    if (!values.url) { renderForm(ctx, values, { endpoint, error: 'Enter the URL events are sent to.' }); return undefined; }
    if (values.events.length === 0) { renderForm(ctx, values, { endpoint, error: 'Choose at least one event, or every event.' }); return undefined; }
    try {
      return await work();
    } catch (e) {
      if (e instanceof AppError && e.status < 500 && e.code !== 'not_found') { renderForm(ctx, values, { endpoint, error: e.message }); return undefined; }
      throw e;
    }
  }
  const fieldsOf = (v: FormValues): EndpointFields & { url: string; events: string[] } => ({
    url: v.url, events: v.events.includes(ALL_EVENTS) ? [ALL_EVENTS] : v.events, workspace: v.workspace || null, description: v.description,
  });

  async function detail(ctx: Context, id: string, extra: Record<string, unknown> = {}, page = 1) {
    const endpoint = await webhooks.show(id);
    const log = await webhooks.deliveries(id, { limit: LOG_PAGE_SIZE, offset: (page - 1) * LOG_PAGE_SIZE });
    render(ctx, 'webhook', {
      title: 'Webhook endpoint', endpoint, deliveries: log.deliveries, total: log.total, page,
      pages: Math.max(1, Math.ceil(log.total / LOG_PAGE_SIZE)), retentionDays: deps.retentionDays, done: noticeOf(ctx.query.done), ...extra,
    });
  }

  router.get('/webhooks', async (ctx) => {
    render(ctx, 'webhooks', { title: 'Webhooks', endpoints: await webhooks.list(), done: noticeOf(ctx.query.done) });
  });
  router.get('/webhooks/new', (ctx) => renderForm(ctx, { url: '', events: [], workspace: '', description: '' }));
  router.post('/webhooks/new', ...form, guard({ body: endpointForm }), async (ctx) => {
    const values = valuesOf(guarded(ctx, { body: endpointForm }).body);
    const created = await orForm(ctx, values, undefined, () => webhooks.create(fieldsOf(values), origin(ctx)));
    if (!created) return;
    // the secret is on this answer only: a page, never a redirect (a URL would keep it)
    await detail(ctx, created.id, { secret: created.secret, secretIsNew: true });
  });

  router.get('/webhooks/:id', guard({ query: detailQuery }), async (ctx) => {
    await detail(ctx, ctx.params.id!, {}, guarded(ctx, { query: detailQuery }).query.page);
  });
  router.get('/webhooks/:id/edit', async (ctx) => {
    const e = await webhooks.show(ctx.params.id!);
    renderForm(ctx, { url: e.url, events: e.events, workspace: e.workspace?.slug ?? e.workspace?.id ?? '', description: e.description }, { endpoint: e });
  });
  router.post('/webhooks/:id/edit', ...form, guard({ body: endpointForm }), async (ctx) => {
    const endpoint = await webhooks.show(ctx.params.id!);
    const values = valuesOf(guarded(ctx, { body: endpointForm }).body);
    const saved = await orForm(ctx, values, endpoint, () => webhooks.update(endpoint.id, fieldsOf(values), origin(ctx)));
    if (saved) back(ctx, `/admin/webhooks/${endpoint.id}`, 'updated');
  });
  router.get('/webhooks/:id/delete', async (ctx) => {
    const endpoint = await webhooks.show(ctx.params.id!);
    render(ctx, 'webhook-delete', { title: 'Delete webhook endpoint', endpoint, open: await webhooks.openMessages(endpoint.id) });
  });
  router.post('/webhooks/:id/delete', ...form, async (ctx) => {
    await webhooks.remove(ctx.params.id!, origin(ctx));
    back(ctx, '/admin/webhooks', 'deleted');
  });
  router.post('/webhooks/:id/rotate-secret', ...form, async (ctx) => {
    const { id, secret } = await webhooks.rotateSecret(ctx.params.id!, origin(ctx));
    await detail(ctx, id, { secret });
  });
  router.post('/webhooks/:id/test', ...form, async (ctx) => {
    const test = await webhooks.test(ctx.params.id!);
    await detail(ctx, ctx.params.id!, { test });
  });
  router.post('/webhooks/:id/enable', ...form, async (ctx) => {
    await webhooks.enable(ctx.params.id!, origin(ctx));
    back(ctx, `/admin/webhooks/${ctx.params.id}`, 'enabled');
  });
  router.post('/webhooks/:id/disable', ...form, async (ctx) => {
    await webhooks.disable(ctx.params.id!, origin(ctx));
    back(ctx, `/admin/webhooks/${ctx.params.id}`, 'disabled');
  });
  router.post('/webhooks/:id/replay', ...form, async (ctx) => {
    const { replayed } = await webhooks.replay(ctx.params.id!, {}, origin(ctx));
    await detail(ctx, ctx.params.id!, { replayed });
  });
}
