// The console's resource (API) pages, added to the admin console's router behind its gate (admin
// role, MFA, CSRF on every form; src/admin/console.pages.ts):
//   GET /admin/resources · GET|POST /admin/resources/new · GET|POST /admin/resources/:id/edit
//   GET|POST /admin/resources/:id/delete (a confirmation that says what happens)
// GATEHOUSE_RESOURCES entries are listed, marked read-only, without edit or delete.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { guard, guarded } from '../http/guard.ts';
import type { PageRenderer } from '../http/page.ts';
import type { ResourceOrigin, ResourceService, ResourceView } from '../resources/resource.service.ts';
import { RESOURCE_CLAIMS, RESOURCE_CLAIM_NAMES } from '../resources/resource.schema.ts';

/** Each claim's checkbox is its own field (`claim:email`): hosted forms refuse repeated names. */
const CLAIM_FIELD = 'claim:';

/** The one-line notices after a POST, by key: only a key travels in the URL, only these words show. */
const NOTICES = {
  created: 'Resource added. Apps ask for its tokens with resource=<audience>.',
  saved: 'Resource saved: the next token for it uses the change.',
  deleted: 'Resource removed: asking for it is invalid_target from now on.',
} as const;
type Notice = keyof typeof NOTICES;
const noticeOf = (key: unknown) => (typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : undefined);

const listQuery = z.object({ done: z.string().max(20).optional() });
const resourceForm = z.object({
  audience: z.string().trim().max(2000, 'The audience is longer than 2000 characters.').default(''),
  name: z.string().trim().max(200, 'The name is longer than 200 characters.').default(''),
  scopes: z.string().max(4000, 'Too many scopes.').default(''),
  ttl: z.string().trim().max(10).default(''),
  enabled: z.string().optional(),
}).catchall(z.string());

interface FormValues { audience: string; name: string; claims: string[]; scopes: string; ttl: string; enabled: boolean }

/** The claims with the scope each needs, for the form's hints. */
const CLAIM_CHOICES = RESOURCE_CLAIM_NAMES.map((name) => ({ name, scope: RESOURCE_CLAIMS[name] }));

export interface ResourceConsoleDeps {
  resources: ResourceService;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => ResourceOrigin;
}

/** Adds the resource pages to the console's router (after its gate). */
export function addResourceConsole(router: Router, deps: ResourceConsoleDeps): void {
  const { resources, render, form, origin } = deps;
  const back = (ctx: Context, done: Notice) => { ctx.redirect(`/admin/resources?done=${done}`); ctx.status = 303; };

  const valuesOf = (body: Record<string, string | undefined>): FormValues => ({
    audience: body.audience ?? '', name: body.name ?? '', scopes: body.scopes ?? '', ttl: body.ttl ?? '', enabled: body.enabled !== undefined,
    claims: Object.keys(body).filter((k) => k.startsWith(CLAIM_FIELD)).map((k) => k.slice(CLAIM_FIELD.length)),
  });
  const valuesFrom = (r: ResourceView): FormValues => ({
    audience: r.audience, name: r.name, claims: r.claims, scopes: r.scopes.join(' '), ttl: r.ttl === null ? '' : String(r.ttl), enabled: r.enabled,
  });
  const fieldsOf = (v: FormValues) => ({
    name: v.name || undefined, claims: v.claims, scopes: v.scopes, enabled: v.enabled, ttl: v.ttl === '' ? null : v.ttl,
  });
  const renderForm = (ctx: Context, values: FormValues, opts: { resource?: ResourceView; error?: string } = {}) =>
    render(ctx, 'resource-form', {
      title: opts.resource ? 'Edit resource' : 'Add resource', values, claimChoices: CLAIM_CHOICES, claimField: CLAIM_FIELD, ...opts,
    }, opts.error ? 400 : 200);

  /** A refusal the person can fix (a bad audience, an unknown claim) shows on the form with what they typed. */
  async function orForm(ctx: Context, values: FormValues, resource: ResourceView | undefined, work: () => Promise<unknown>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (e) {
      if (e instanceof AppError && e.status < 500 && e.status !== 404) { renderForm(ctx, values, { resource, error: e.message }); return false; }
      throw e;
    }
  }
  /** A stored resource (GATEHOUSE_RESOURCES entries have no pages to change them). */
  async function editable(id: string): Promise<ResourceView> {
    const r = await resources.show(id);
    if (r.source === 'env') throw new AppError(409, 'env_resource', `${r.audience} is defined by GATEHOUSE_RESOURCES: change it there.`);
    return r;
  }

  router.get('/resources', guard({ query: listQuery }), async (ctx) => {
    const { done } = guarded(ctx, { query: listQuery }).query;
    render(ctx, 'resources', { title: 'Resources', resources: await resources.list(), done: noticeOf(done) });
  });

  router.get('/resources/new', (ctx) => renderForm(ctx, { audience: '', name: '', claims: [], scopes: '', ttl: '', enabled: true }));
  router.post('/resources/new', ...form, guard({ body: resourceForm }), async (ctx) => {
    const values = valuesOf(guarded(ctx, { body: resourceForm }).body);
    if (!values.audience) return renderForm(ctx, values, { error: 'Enter the API\'s audience, e.g. https://api.example.com.' });
    if (await orForm(ctx, values, undefined, () => resources.create({ audience: values.audience, ...fieldsOf(values) }, 'console', origin(ctx)))) back(ctx, 'created');
  });

  router.get('/resources/:id/edit', async (ctx) => {
    const r = await editable(ctx.params.id!);
    renderForm(ctx, valuesFrom(r), { resource: r });
  });
  router.post('/resources/:id/edit', ...form, guard({ body: resourceForm }), async (ctx) => {
    const r = await editable(ctx.params.id!);
    const values = { ...valuesOf(guarded(ctx, { body: resourceForm }).body), audience: r.audience };
    if (await orForm(ctx, values, r, () => resources.update(r.id!, fieldsOf(values), origin(ctx)))) back(ctx, 'saved');
  });

  router.get('/resources/:id/delete', async (ctx) => {
    render(ctx, 'resource-delete', { title: 'Remove resource', resource: await editable(ctx.params.id!) });
  });
  router.post('/resources/:id/delete', ...form, async (ctx) => {
    const r = await editable(ctx.params.id!);
    await resources.remove(r.id!, origin(ctx));
    back(ctx, 'deleted');
  });
}
