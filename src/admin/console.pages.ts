// The admin console: server-rendered pages over the same operations as the admin API, for an
// admin signed in to the hosted session — with MFA unless GATEHOUSE_ADMIN_CONSOLE_MFA=false.
//   GET /admin/users (search, pages) · GET /admin/users/:id · POST …/{disable,enable,reset-mfa,revoke-sessions,impersonate}
//   GET /admin/clients · GET /admin/clients/:id · POST …/rotate-secret, …/delete
//   GET /admin/workspaces · GET /admin/audit (filters, pages)
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import type { ClientService } from '../clients/client.service.ts';
import type { Config } from '../config/index.ts';
import type { Views } from '../render/views.ts';
import type { AccountSession, AccountViewer } from '../accounts/pages/account-sign-in.ts';
import type { AccountSessionRepo } from '../accounts/account-session.repo.ts';
import type { Mfa } from '../mfa/index.ts';
import type { Audit } from '../audit/audit.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import { formBody } from '../http/body.ts';
import { requireCsrf } from '../security/csrf.ts';
import { guard, guarded } from '../http/guard.ts';
import { createPageRenderer } from '../http/page.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import { userView } from '../accounts/account.service.ts';
import type { AdminService } from './admin.service.ts';
import type { Impersonation } from './impersonation.ts';
import { addWebhookConsole } from './webhooks.console.ts';
import type { WebhookAdmin } from './webhooks.manage.ts';
import { addResourceConsole } from './resources.console.ts';
import type { ResourceService } from '../resources/resource.service.ts';
import { addProviderConsole } from './providers.console.ts';
import type { ProviderService } from '../upstream/provider.service.ts';

const PAGE_SIZE = 25;
/** Past any real page; a larger number is someone typing, not paging. */
const MAX_PAGE = 100_000;
const NAV = [['/admin/users', 'Users'], ['/admin/clients', 'Clients'], ['/admin/workspaces', 'Workspaces'], ['/admin/audit', 'Audit']] as const;

export interface ConsoleDeps {
  session: AccountSession; admin: AdminService; impersonation: Impersonation; clients: ClientService; mfa: Mfa; audit: Audit;
  workspaces: WorkspaceService; views: Views; config: Config;
  sessions: Pick<AccountSessionRepo, 'open'>;
  /** the webhook pages (src/admin/webhooks.console.ts) */
  webhooks: WebhookAdmin;
  /** the resource (API) pages (src/admin/resources.console.ts) */
  resources: ResourceService;
  /** the upstream-provider pages (src/admin/providers.console.ts) */
  providers: ProviderService;
}

/**
 * The one-line notices a page shows after a POST, by key. Only a key travels in the URL, and only
 * these words are ever shown: a link somebody else wrote (`?notice=Call us on …`) shows nothing,
 * never their words in the console's trusted banner.
 */
export const CONSOLE_NOTICES = {
  disabled: 'User disabled; their sessions ended.',
  enabled: 'User enabled.',
  'mfa-reset': 'Second factors removed.',
  'sessions-revoked': 'Every session and grant ended.',
  'client-deleted': 'Client deleted.',
} as const;
export type ConsoleNotice = keyof typeof CONSOLE_NOTICES;
const noticeOf = (key: unknown): string | undefined =>
  typeof key === 'string' && Object.hasOwn(CONSOLE_NOTICES, key) ? CONSOLE_NOTICES[key as ConsoleNotice] : undefined;

// Query strings of the console's lists: lenient, as a person types them into a URL (a bad page
// number is the first page; an over-long search is cut), except the audit filters, which must fit.
const queryText = (max: number) => z.preprocess((v) => (typeof v === 'string' ? v.trim().slice(0, max) : ''), z.string());
const pageNo = z.preprocess((v) => Math.max(1, Math.min(MAX_PAGE, Number.parseInt(String(v ?? '1'), 10) || 1)), z.number());
const usersQuery = z.object({ q: queryText(200), page: pageNo });
const filterText = queryText(200).pipe(z.string().max(100)).transform((s) => s || undefined);
const auditQuery = z.object({ type: filterText, subject: filterText, actor: filterText, page: pageNo });
const impersonateForm = z.object({ reason: z.string().default('') });

export function createAdminConsole(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/admin' });
  const form = [formBody(), requireCsrf(new URL(deps.config.issuer).origin)];
  const mfaRequired = deps.config.administration.consoleMfa;

  async function gate(ctx: Context, next: Next) {
    const returnTo = ctx.method === 'GET' ? ctx.originalUrl : '/admin/users';
    const v = await deps.session.viewer(ctx);
    // sign in first; ask for the second factor only once we know this is an admin
    if (!v) return deps.session.signIn(ctx, returnTo);
    if (!v.user.roles.includes('admin')) throw new AppError(403, 'not_admin', 'The console is for administrators. Your account is not one.');
    if (mfaRequired && !v.amr.includes('mfa')) return deps.session.signIn(ctx, returnTo, false, { mfa: true });
    ctx.state.viewer = v;
    await next();
  }
  const viewer = (ctx: Context) => ctx.state.viewer as AccountViewer;
  const origin = (ctx: Context) => ({ actorId: viewer(ctx).user.id, clientId: null, ...requestOrigin(ctx) });
  const render = createPageRenderer({
    views: deps.views, secure: deps.config.issuer.startsWith('https:'), prefix: 'admin/',
    extra: (ctx) => ({
      nav: NAV, current: `/admin/${ctx.path.split('/')[2] ?? ''}`, admin: viewer(ctx).user, notice: noticeOf(ctx.query.notice),
    }),
  });
  const back = (ctx: Context, path: string, notice: ConsoleNotice) => { ctx.redirect(`${path}?notice=${notice}`); ctx.status = 303; };

  router.use(gate);
  router.get('/', (ctx) => ctx.redirect('/admin/users'));

  router.get('/users', guard({ query: usersQuery }), async (ctx) => {
    const { q, page } = guarded(ctx, { query: usersQuery }).query;
    const { total, users } = await deps.admin.searchUsers({ query: q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    render(ctx, 'users', { title: 'Users', users: users.map(userView), q, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), total });
  });
  router.get('/users/:id', async (ctx) => {
    const u = await deps.admin.user(ctx.params.id!);
    const [factors, { events }, sessions] = await Promise.all([
      deps.mfa.factors(u.id),
      deps.admin.auditEvents({ subject: u.id, limit: 20, offset: 0 }),
      deps.sessions.open(u.id, { limit: 20 }),
    ]);
    render(ctx, 'user', { title: u.email, user: { ...userView(u), mfa_required: u.mfa_required }, factors, events, sessions, self: u.id === viewer(ctx).user.id });
  });
  const action = (name: string, run: (ctx: Context, id: string) => Promise<unknown>, notice: ConsoleNotice) =>
    router.post(`/users/:id/${name}`, ...form, async (ctx) => { await run(ctx, ctx.params.id!); back(ctx, `/admin/users/${ctx.params.id}`, notice); });
  action('disable', (ctx, id) => deps.admin.disable(id, origin(ctx)), 'disabled');
  action('enable', (ctx, id) => deps.admin.enable(id, origin(ctx)), 'enabled');
  action('reset-mfa', (ctx, id) => deps.admin.resetMfa(id, origin(ctx)), 'mfa-reset');
  action('revoke-sessions', (ctx, id) => deps.admin.revokeSessions(id, origin(ctx)), 'sessions-revoked');
  router.post('/users/:id/impersonate', ...form, guard({ body: impersonateForm }), async (ctx) => {
    const { reason } = guarded(ctx, { body: impersonateForm }).body;
    const minted = await deps.impersonation.mint({ adminId: viewer(ctx).user.id, targetId: ctx.params.id!, clientId: 'gatehouse-account', reason, origin: requestOrigin(ctx) });
    const u = await deps.admin.user(ctx.params.id!);
    render(ctx, 'impersonated', { title: 'Impersonation token', user: userView(u), token: minted.access_token, minutes: Math.round(minted.expires_in / 60) });
  });

  router.get('/clients', async (ctx) => { render(ctx, 'clients', { title: 'Clients', clients: await deps.clients.list() }); });
  router.get('/clients/:id', async (ctx) => { render(ctx, 'client', { title: 'Client', client: await deps.clients.show(ctx.params.id!) }); });
  router.post('/clients/:id/rotate-secret', ...form, async (ctx) => {
    const rotated = await deps.clients.rotateSecret(ctx.params.id!);
    await deps.audit.record({ type: 'client.secret_rotated', ...origin(ctx), clientId: rotated.client_id });
    render(ctx, 'client', { title: 'Client', client: await deps.clients.show(ctx.params.id!), secret: rotated.client_secret });
  });
  router.post('/clients/:id/delete', ...form, async (ctx) => {
    await deps.clients.delete(ctx.params.id!);
    await deps.audit.record({ type: 'client.deleted', ...origin(ctx), clientId: ctx.params.id! });
    back(ctx, '/admin/clients', 'client-deleted');
  });

  addWebhookConsole(router, { webhooks: deps.webhooks, render, form, origin, retentionDays: deps.config.webhooks.retentionDays });
  addResourceConsole(router, { resources: deps.resources, render, form, origin });
  addProviderConsole(router, { providers: deps.providers, render, form, origin });

  router.get('/workspaces', async (ctx) => { render(ctx, 'workspaces', { title: 'Workspaces', workspaces: await deps.workspaces.operatorList() }); });

  router.get('/audit', guard({ query: auditQuery }), async (ctx) => {
    const { page, ...f } = guarded(ctx, { query: auditQuery }).query;
    const { total, events } = await deps.admin.auditEvents({ ...f, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    render(ctx, 'audit', { title: 'Audit', events, filter: f, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) });
  });
  return router;
}
