// The console's upstream-provider pages, added to the admin console's router behind its gate (admin
// role, MFA, CSRF on every form; src/admin/console.pages.ts):
//   GET /admin/providers · GET|POST /admin/providers/new · GET|POST /admin/providers/:name (details, edit)
//   GET|POST /admin/providers/:name/delete (a confirmation that says how many users it touches)
//   POST /admin/providers/:name/rotate-key (private_key_jwt: a new key pair)
// Secrets are typed in and never shown again; the callback URL and any public key are shown to copy.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { guard, guarded } from '../http/guard.ts';
import type { PageRenderer } from '../http/page.ts';
import type { ChangeOrigin, ProviderService, ProviderView } from '../upstream/provider.service.ts';
import { PRESETS, PROVIDER_KINDS, TOKEN_ENDPOINT_AUTH_METHODS, type ProviderKind } from '../upstream/presets.ts';

/** The one-line notices after a POST, by key: only a key travels in the URL, only these words show. */
const NOTICES = {
  created: 'Provider added. Register its callback URL with the provider before turning it on for users.',
  saved: 'Provider saved.',
  deleted: 'Provider removed, with the identities linked through it.',
  rotated: 'New key pair made: register the new public key upstream now; the old one no longer signs.',
} as const;
type Notice = keyof typeof NOTICES;
const noticeOf = (key: unknown) => (typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : undefined);

const text = (max: number) => z.string().max(max, `A field is longer than ${max} characters.`).default('');
const listQuery = z.object({ done: z.string().max(20).optional() });
const providerForm = z.object({
  name: text(63), kind: text(20), display_name: text(100), issuer: text(2000), client_id: text(500), client_secret: text(4000),
  token_endpoint_auth_method: text(40), scopes: text(2000), trust_email_verified: text(10),
  allowed_email_domains: text(4000), home_realm_domains: text(4000), client_ids: text(4000),
  tenant: text(200), tenants: text(4000), hosted_domain: text(253), order: text(10), icon: text(300), org_sync: text(20_000),
  authorization_endpoint: text(2000), token_endpoint: text(2000), userinfo_endpoint: text(2000), emails_endpoint: text(2000),
  allow_signup: z.string().optional(), trust_mfa: z.string().optional(), logout_upstream: z.string().optional(), enabled: z.string().optional(),
});
type FormValues = z.output<typeof providerForm>;
const deleteForm = z.object({ force: z.string().optional() });

const ENDPOINT_FIELDS = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'emails_endpoint'] as const;
const KIND_CHOICES = PROVIDER_KINDS.map((kind) => ({ kind, label: kind === 'oidc' ? 'Any OpenID Connect provider' : PRESETS[kind].displayName, note: PRESETS[kind].note }));
const splitList = (v: string) => v.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
const YES_NO: Record<string, boolean | undefined> = { yes: true, no: false };

export interface ProviderConsoleDeps {
  providers: ProviderService;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => ChangeOrigin;
}

const blank: FormValues = {
  name: '', kind: 'oidc', display_name: '', issuer: '', client_id: '', client_secret: '', token_endpoint_auth_method: '', scopes: '',
  trust_email_verified: 'default', allowed_email_domains: '', home_realm_domains: '', client_ids: '', tenant: '', tenants: '',
  hosted_domain: '', order: '', icon: '', org_sync: '', authorization_endpoint: '', token_endpoint: '', userinfo_endpoint: '', emails_endpoint: '',
  allow_signup: undefined, trust_mfa: undefined, logout_upstream: undefined, enabled: 'on',
};

function valuesFrom(p: ProviderView): FormValues {
  const on = (b: boolean) => (b ? 'on' : undefined);
  return {
    name: p.name, kind: p.kind, display_name: p.display_name, issuer: p.issuer ?? '', client_id: p.client_id, client_secret: '',
    token_endpoint_auth_method: p.token_endpoint_auth_method, scopes: p.scopes.join(' '), trust_email_verified: p.trust_email_verified ? 'yes' : 'no',
    allowed_email_domains: p.allowed_email_domains.join(', '), home_realm_domains: p.home_realm_domains.join(', '), client_ids: p.client_ids.join(', '),
    tenant: p.tenant ?? '', tenants: p.tenants.join(', '), hosted_domain: p.hosted_domain ?? '', order: String(p.order), icon: p.icon ?? '',
    org_sync: p.org_sync.length ? JSON.stringify(p.org_sync, null, 2) : '',
    authorization_endpoint: p.endpoints.authorization_endpoint ?? '', token_endpoint: p.endpoints.token_endpoint ?? '',
    userinfo_endpoint: p.endpoints.userinfo_endpoint ?? '', emails_endpoint: p.endpoints.emails_endpoint ?? '',
    allow_signup: on(p.allow_signup), trust_mfa: on(p.trust_mfa), logout_upstream: on(p.logout_upstream), enabled: on(p.enabled),
  };
}

/** The form's values as the registry's fields; `current`: an edit (empty fields go back to their defaults). */
function fieldsOf(v: FormValues, current?: ProviderView): Record<string, unknown> {
  const kind = (current?.kind ?? v.kind) as ProviderKind;
  const orNull = (s: string) => (s.trim() === '' ? (current ? null : undefined) : s.trim());
  let orgSync: unknown;
  if (v.org_sync.trim()) {
    try { orgSync = JSON.parse(v.org_sync); } catch { throw new AppError(400, 'invalid_provider', 'Organisation sync must be a JSON array of rules, e.g. [{"claim": "groups", "workspace": "team-{value}", "role": "member"}].'); }
  } else orgSync = current ? [] : undefined;
  const endpoints = Object.fromEntries(ENDPOINT_FIELDS.filter((f) => v[f].trim()).map((f) => [f, v[f].trim()]));
  const issuer = kind === 'github' ? undefined : (current && v.issuer.trim() === (current.issuer ?? '') ? undefined : orNull(v.issuer));
  return {
    display_name: orNull(v.display_name), issuer, client_id: v.client_id.trim() || undefined,
    client_secret: v.client_secret === '' ? undefined : v.client_secret,
    token_endpoint_auth_method: v.token_endpoint_auth_method || undefined, scopes: orNull(v.scopes),
    allow_signup: v.allow_signup !== undefined, trust_mfa: v.trust_mfa !== undefined, logout_upstream: v.logout_upstream !== undefined, enabled: v.enabled !== undefined,
    trust_email_verified: YES_NO[v.trust_email_verified],
    allowed_email_domains: splitList(v.allowed_email_domains), home_realm_domains: splitList(v.home_realm_domains), client_ids: splitList(v.client_ids),
    ...(kind === 'microsoft' ? { tenant: orNull(v.tenant), tenants: splitList(v.tenants) } : {}),
    ...(kind === 'google' ? { hosted_domain: orNull(v.hosted_domain) } : {}),
    order: v.order.trim() === '' ? (current ? null : undefined) : Number(v.order),
    icon: orNull(v.icon), org_sync: orgSync,
    endpoints: Object.keys(endpoints).length || current ? endpoints : undefined,
  };
}

/** Adds the provider pages to the console's router (after its gate). */
export function addProviderConsole(router: Router, deps: ProviderConsoleDeps): void {
  const { providers, render, form, origin } = deps;
  const back = (ctx: Context, path: string, done: Notice) => { ctx.redirect(`${path}?done=${done}`); ctx.status = 303; };

  const renderForm = (ctx: Context, values: FormValues, opts: { provider?: ProviderView; error?: string; done?: string } = {}) =>
    render(ctx, 'provider-form', {
      title: opts.provider ? opts.provider.display_name : 'Add provider', values, kinds: KIND_CHOICES, authMethods: TOKEN_ENDPOINT_AUTH_METHODS,
      callbackExample: providers.callbackUrl('NAME'), ...opts,
    }, opts.error ? 400 : 200);

  /** A refusal the person can fix (a bad issuer, a missing secret) shows on the form with what they typed (never the secret). */
  async function orForm(ctx: Context, values: FormValues, provider: ProviderView | undefined, work: () => Promise<unknown>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (e) {
      if (e instanceof AppError && e.status < 500 && e.status !== 404) { renderForm(ctx, { ...values, client_secret: '' }, { provider, error: e.message }); return false; }
      throw e;
    }
  }

  router.get('/providers', guard({ query: listQuery }), async (ctx) => {
    const { done } = guarded(ctx, { query: listQuery }).query;
    const list = (await providers.list()).map((p) => ({
      ...p, icon_svg: p.icon ? null : PRESETS[p.kind].icon, kind_label: p.kind === 'oidc' ? 'OpenID Connect' : PRESETS[p.kind].displayName,
    }));
    render(ctx, 'providers', { title: 'Sign-in providers', providers: list, done: noticeOf(done) });
  });

  router.get('/providers/new', (ctx) => renderForm(ctx, blank));
  router.post('/providers/new', ...form, guard({ body: providerForm }), async (ctx) => {
    const values = guarded(ctx, { body: providerForm }).body;
    if (!values.name.trim()) return renderForm(ctx, { ...values, client_secret: '' }, { error: 'Enter a name: lower-case letters, digits and hyphens, e.g. google or corp.' });
    let created: ProviderView | undefined;
    const ok = await orForm(ctx, values, undefined, async () => {
      created = await providers.create({ name: values.name.trim(), kind: values.kind as ProviderKind, ...fieldsOf(values) } as never, origin(ctx), 'console');
    });
    if (ok) back(ctx, `/admin/providers/${created!.name}`, 'created');
  });

  router.get('/providers/:name', guard({ query: listQuery }), async (ctx) => {
    const p = await providers.show(ctx.params.name!);
    renderForm(ctx, valuesFrom(p), { provider: p, done: noticeOf(guarded(ctx, { query: listQuery }).query.done) });
  });
  router.post('/providers/:name', ...form, guard({ body: providerForm }), async (ctx) => {
    const p = await providers.show(ctx.params.name!);
    const values = { ...guarded(ctx, { body: providerForm }).body, name: p.name, kind: p.kind };
    if (await orForm(ctx, values, p, () => providers.update(p.name, fieldsOf(values, p) as never, origin(ctx)))) back(ctx, `/admin/providers/${p.name}`, 'saved');
  });

  router.post('/providers/:name/rotate-key', ...form, async (ctx) => {
    const p = await providers.show(ctx.params.name!);
    await providers.update(p.name, { rotate_key: true }, origin(ctx));
    back(ctx, `/admin/providers/${p.name}`, 'rotated');
  });

  router.get('/providers/:name/delete', async (ctx) => {
    const p = await providers.show(ctx.params.name!);
    render(ctx, 'provider-delete', { title: 'Remove provider', provider: p, impact: await providers.impact(p.name) });
  });
  router.post('/providers/:name/delete', ...form, guard({ body: deleteForm }), async (ctx) => {
    const p = await providers.show(ctx.params.name!);
    const force = guarded(ctx, { body: deleteForm }).body.force !== undefined;
    try {
      await providers.remove(p.name, { force }, origin(ctx));
    } catch (e) {
      // someone linked through it since the page was shown: show the page again with the new counts
      if (e instanceof AppError && e.code === 'provider_in_use') {
        return render(ctx, 'provider-delete', { title: 'Remove provider', provider: p, impact: await providers.impact(p.name), error: e.message }, 409);
      }
      throw e;
    }
    back(ctx, '/admin/providers', 'deleted');
  });
}
