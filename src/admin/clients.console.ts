// The console's client (application) pages, mounted on the admin console's router behind its gate
// (admin role, MFA, CSRF on every form; src/admin/console.pages.ts):
//   GET /admin/clients · GET|POST /admin/clients/new · GET /admin/clients/:id
//   GET|POST …/:id/edit · GET|POST …/:id/rotate-secret · GET|POST …/:id/delete (confirmations)
// Every change goes through the clients service (the CLI's and the API's rules, built-in clients
// refused) and is audited with the admin as actor. A secret is on the page that answers "Create"
// or "Rotate secret" only, never in a URL.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import type { PageRenderer } from '../http/page.ts';
import type { Audit } from '../audit/audit.ts';
import type { ClientService, ClientView } from '../clients/client.service.ts';
import { clientInputSchema, DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT, type ClientInput } from '../clients/client.schema.ts';
import type { AdminOrigin } from './admin.service.ts';

/** The grants an operator picks from, with the words shown beside each box. */
export const GRANT_CHOICES = [
  { grant: 'authorization_code', label: 'Authorization code', hint: 'people sign in through the browser (with PKCE)' },
  { grant: 'refresh_token', label: 'Refresh token', hint: 'stay signed in without asking again' },
  { grant: 'client_credentials', label: 'Client credentials', hint: 'a service acting as itself (confidential only)' },
  { grant: DEVICE_CODE_GRANT, label: 'Device code', hint: 'TVs and terminals: the person confirms on another device' },
  { grant: TOKEN_EXCHANGE_GRANT, label: 'Token exchange', hint: 'trade a token for one meant for another API (confidential only)' },
] as const;
/** One checkbox per grant, `grant:<n>`: hosted forms refuse a repeated field name. */
const grantField = (i: number) => `grant:${i}`;
const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
/** Who may sign up on this app's sign-in page; none chosen: GATEHOUSE_SIGNUP. */
const SIGNUP_POLICIES = ['open', 'invitation', 'closed'] as const;
/** The short name of a grant in a list (the device and exchange grants are URNs). */
export const grantLabel = (g: string) => g.replace('urn:ietf:params:oauth:grant-type:', '');

/** The one-line notices after a POST, by key: only a key travels in the URL, only these words show. */
const NOTICES = { saved: 'Client saved.', deleted: 'Client deleted.' } as const;
type Notice = keyof typeof NOTICES;
const noticeOf = (key: unknown) => (typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : undefined);

const MAX_LIST_TEXT = 20_000;
const clientForm = z.object({
  name: z.string().max(500).default(''),
  client_id: z.string().max(200).default(''),
  type: z.enum(['public', 'confidential']).optional(),
  redirect_uris: z.string().max(MAX_LIST_TEXT).default(''),
  post_logout_redirect_uris: z.string().max(MAX_LIST_TEXT).default(''),
  scope: z.string().max(4000).default(''),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).default('RS256'),
  signup_policy: z.enum(['', ...SIGNUP_POLICIES]).default(''),
  resource_server_for: z.string().max(MAX_LIST_TEXT).default(''),
  require_mfa: z.literal('on').optional(),
  require_email_verification: z.literal('on').optional(),
  password_sign_in: z.literal('on').optional(),
}).catchall(z.string().max(200));

/** What the form shows: what was typed (or the client's registration), as text. */
export interface ClientFormValues {
  name: string; client_id: string; type: 'public' | 'confidential'; redirect_uris: string; post_logout_redirect_uris: string;
  grants: string[]; scope: string; id_token_signed_response_alg: string; signup_policy: string; resource_server_for: string;
  require_mfa: boolean; require_email_verification: boolean; password_sign_in: boolean;
}

const lines = (text: string) => text.split(/[\r\n]+/).map((s) => s.trim()).filter(Boolean);

const blank = (): ClientFormValues => ({
  name: '', client_id: '', type: 'confidential', redirect_uris: '', post_logout_redirect_uris: '', grants: ['authorization_code', 'refresh_token'],
  scope: 'openid profile email offline_access', id_token_signed_response_alg: 'RS256', signup_policy: '', resource_server_for: '',
  require_mfa: false, require_email_verification: false, password_sign_in: true,
});

const valuesOfClient = (c: ClientView): ClientFormValues => ({
  name: c.client_name, client_id: c.client_id, type: c.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
  redirect_uris: c.redirect_uris.join('\n'), post_logout_redirect_uris: c.post_logout_redirect_uris.join('\n'), grants: c.grant_types,
  scope: c.scope, id_token_signed_response_alg: c.id_token_signed_response_alg, signup_policy: c.signup_policy ?? '', resource_server_for: c.resource_server_for.join('\n'),
  require_mfa: c.require_mfa, require_email_verification: c.require_email_verification, password_sign_in: c.password_sign_in,
});

/** Which field of the form a schema path belongs to (the error is shown under it). */
const FIELD_OF_PATH: Record<string, string> = {
  name: 'name', client_id: 'client_id', public: 'type', redirect_uris: 'redirect_uris', post_logout_redirect_uris: 'post_logout_redirect_uris',
  grant_types: 'grants', scope: 'scope', id_token_signed_response_alg: 'id_token_signed_response_alg', resource_server_for: 'resource_server_for', signup_policy: 'signup_policy',
};
/** The schema's messages start lower-case ("name is required"): a sentence on the page. */
const sentence = (m: string) => {
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
};

export interface ClientConsoleDeps {
  clients: ClientService;
  audit: Audit;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => AdminOrigin;
}

/** Adds the client pages to the console's router (after its gate). */
export function addClientConsole(router: Router, deps: ClientConsoleDeps): void {
  const { clients, audit, render, form, origin } = deps;
  const path = (c: { client_id: string }) => `/admin/clients/${encodeURIComponent(c.client_id)}`;
  const back = (ctx: Context, to: string, done: Notice) => { ctx.redirect(`${to}?done=${done}`); ctx.status = 303; };

  const valuesOfBody = (body: Record<string, string | undefined>, existing?: ClientView): ClientFormValues => ({
    name: body.name ?? '', client_id: existing?.client_id ?? (body.client_id ?? '').trim(),
    type: existing ? (existing.token_endpoint_auth_method === 'none' ? 'public' : 'confidential') : (body.type === 'public' ? 'public' : 'confidential'),
    redirect_uris: body.redirect_uris ?? '', post_logout_redirect_uris: body.post_logout_redirect_uris ?? '',
    grants: GRANT_CHOICES.filter((_, i) => body[grantField(i)] === 'on').map((g) => g.grant),
    scope: body.scope ?? '', id_token_signed_response_alg: body.id_token_signed_response_alg ?? 'RS256', signup_policy: body.signup_policy ?? '',
    resource_server_for: body.resource_server_for ?? '',
    require_mfa: body.require_mfa === 'on', require_email_verification: body.require_email_verification === 'on', password_sign_in: body.password_sign_in === 'on',
  });
  const inputOf = (v: ClientFormValues): ClientInput => ({
    name: v.name, ...(v.client_id ? { client_id: v.client_id } : {}), public: v.type === 'public',
    redirect_uris: lines(v.redirect_uris), post_logout_redirect_uris: lines(v.post_logout_redirect_uris), grant_types: v.grants,
    scope: v.scope.trim().split(/\s+/).filter(Boolean).join(' ') || undefined,
    id_token_signed_response_alg: v.id_token_signed_response_alg as 'RS256', resource_server_for: lines(v.resource_server_for),
    signup_policy: (v.signup_policy || undefined) as ClientInput['signup_policy'],
    require_mfa: v.require_mfa, require_email_verification: v.require_email_verification, password_sign_in: v.password_sign_in,
  });

  const renderForm = (ctx: Context, values: ClientFormValues, opts: { client?: ClientView; errors?: Record<string, string>; error?: string } = {}) => {
    const invalid = !!opts.error || Object.keys(opts.errors ?? {}).length > 0;
    render(ctx, 'client-form', {
      title: opts.client ? `Edit ${opts.client.client_name}` : 'Register a client', values, client: opts.client,
      grantChoices: GRANT_CHOICES.map((g, i) => ({ ...g, field: grantField(i) })), algs: ID_TOKEN_ALGS, signupPolicies: SIGNUP_POLICIES,
      errors: opts.errors ?? {}, error: opts.error,
    }, invalid ? 400 : 200);
  };

  /**
   * Checks the form with the schema the service uses (so each problem lands under its field), then
   * runs the change; a refusal the person can fix (a taken client_id, a built-in client) shows on the form.
   */
  async function orForm<T>(ctx: Context, values: ClientFormValues, client: ClientView | undefined, work: (input: ClientInput) => Promise<T>): Promise<T | undefined> {
    const input = inputOf(values);
    if (values.grants.length === 0) { renderForm(ctx, values, { client, errors: { grants: 'Choose at least one grant.' } }); return undefined; }
    const parsed = clientInputSchema.safeParse(input);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = FIELD_OF_PATH[String(issue.path[0] ?? '')] ?? 'form';
        errors[field] ??= sentence(issue.message);
      }
      const { form: general, ...fields } = errors;
      renderForm(ctx, values, { client, errors: fields, error: general });
      return undefined;
    }
    try {
      return await work(input);
    } catch (e) {
      if (e instanceof AppError && e.status < 500 && e.code !== 'not_found') { renderForm(ctx, values, { client, error: sentence(e.message) }); return undefined; }
      throw e;
    }
  }

  /** A built-in client: a page that says why nothing can be done to it, and the way back. */
  const refuseBuiltIn = (ctx: Context, client: ClientView, what: string) =>
    render(ctx, 'client-delete', { title: `${client.client_name} is built in`, client, builtIn: true, what }, 409);

  async function detail(ctx: Context, id: string, extra: Record<string, unknown> = {}) {
    render(ctx, 'client', { title: 'Client', client: await clients.show(id), grantLabel, done: noticeOf(ctx.query.done), ...extra });
  }

  router.get('/clients', async (ctx) => {
    render(ctx, 'clients', { title: 'Clients', clients: await clients.list(), grantLabel, done: noticeOf(ctx.query.done) });
  });
  router.get('/clients/new', (ctx) => renderForm(ctx, blank()));
  router.post('/clients/new', ...form, guard({ body: clientForm }), async (ctx) => {
    const values = valuesOfBody(guarded(ctx, { body: clientForm }).body);
    const created = await orForm(ctx, values, undefined, (input) => clients.create(input));
    if (!created) return;
    await audit.record({ type: 'client.created', ...origin(ctx), clientId: created.client_id, data: { name: created.client_name } });
    // the secret is on this answer only: a page, never a redirect (a URL would keep it)
    await detail(ctx, created.client_id, { secret: created.client_secret, created: true });
  });

  router.get('/clients/:id', async (ctx) => { await detail(ctx, ctx.params.id!); });

  router.get('/clients/:id/edit', async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'changed');
    renderForm(ctx, valuesOfClient(client), { client });
  });
  router.post('/clients/:id/edit', ...form, guard({ body: clientForm }), async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'changed');
    const values = valuesOfBody(guarded(ctx, { body: clientForm }).body, client);
    const { client_id: _id, public: _type, ...patch } = inputOf(values);
    const saved = await orForm(ctx, values, client, () => clients.update(client.client_id, patch));
    if (!saved) return;
    const before = valuesOfClient(client);
    const after = valuesOfClient(saved);
    const fields = (Object.keys(after) as Array<keyof ClientFormValues>).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    await audit.record({ type: 'client.updated', ...origin(ctx), clientId: saved.client_id, data: { fields } });
    back(ctx, path(saved), 'saved');
  });

  router.get('/clients/:id/rotate-secret', async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'given a secret');
    render(ctx, 'client-rotate', { title: `Rotate the secret of ${client.client_name}?`, client });
  });
  router.post('/clients/:id/rotate-secret', ...form, async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'given a secret');
    const rotated = await clients.rotateSecret(client.client_id);
    await audit.record({ type: 'client.secret_rotated', ...origin(ctx), clientId: rotated.client_id });
    await detail(ctx, rotated.client_id, { secret: rotated.client_secret });
  });

  router.get('/clients/:id/delete', async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'deleted');
    render(ctx, 'client-delete', { title: `Delete ${client.client_name}?`, client });
  });
  router.post('/clients/:id/delete', ...form, async (ctx) => {
    const client = await clients.show(ctx.params.id!);
    if (client.built_in) return refuseBuiltIn(ctx, client, 'deleted');
    await clients.delete(client.client_id);
    await audit.record({ type: 'client.deleted', ...origin(ctx), clientId: client.client_id, data: { name: client.client_name } });
    back(ctx, '/admin/clients', 'deleted');
  });
}
