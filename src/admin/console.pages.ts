// The admin console: server-rendered pages over the same operations as the admin API, for an
// admin signed in to the hosted session — with MFA unless GATEHOUSE_ADMIN_CONSOLE_MFA=false.
//   GET /admin/users (search, pages) · GET /admin/users/:id · POST …/{disable,enable,reset-mfa,revoke-sessions,impersonate}
//   GET /admin/clients · GET /admin/clients/:id · POST …/rotate-secret, …/delete
//   GET /admin/workspaces · GET /admin/audit (filters, pages)
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { ClientService } from '../clients/client.service.ts';
import type { Config } from '../config/index.ts';
import type { Views } from '../render/views.ts';
import type { AccountSession, AccountViewer } from '../accounts/pages/account-sign-in.ts';
import type { Mfa } from '../mfa/index.ts';
import type { Audit } from '../audit/audit.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import { formBody } from '../http/body.ts';
import { requireCsrf, csrfToken } from '../security/csrf.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import { userView } from '../accounts/account.service.ts';
import type { AdminService } from './admin.service.ts';
import type { Impersonation } from './impersonation.ts';

const PAGE_SIZE = 25;
const NAV = [['/admin/users', 'Users'], ['/admin/clients', 'Clients'], ['/admin/workspaces', 'Workspaces'], ['/admin/audit', 'Audit']] as const;

export interface ConsoleDeps {
  session: AccountSession; admin: AdminService; impersonation: Impersonation; clients: ClientService; mfa: Mfa; audit: Audit;
  workspaces: WorkspaceService; knex: Knex; views: Views; config: Config;
}

const pageNo = (ctx: Context) => Math.max(1, Math.min(100_000, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1));
const text = (ctx: Context, key: string, max = 200) => (typeof ctx.query[key] === 'string' ? (ctx.query[key] as string).trim().slice(0, max) : '');

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
  const render = (ctx: Context, template: string, data: Record<string, unknown> & { title: string }, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = deps.views.render(`admin/${template}`, {
      ...data, nav: NAV, current: `/admin/${ctx.path.split('/')[2] ?? ''}`, admin: viewer(ctx).user,
      notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined,
      csrf: csrfToken(ctx, deps.config.issuer.startsWith('https:')),
    });
  };
  const back = (ctx: Context, path: string, notice: string) => { ctx.redirect(`${path}?notice=${encodeURIComponent(notice)}`); ctx.status = 303; };

  router.use(gate);
  router.get('/', (ctx) => ctx.redirect('/admin/users'));

  router.get('/users', async (ctx) => {
    const q = text(ctx, 'q'); const page = pageNo(ctx);
    const { total, users } = await deps.admin.searchUsers({ query: q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    render(ctx, 'users', { title: 'Users', users: users.map(userView), q, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), total });
  });
  router.get('/users/:id', async (ctx) => {
    const u = await deps.admin.user(ctx.params.id!);
    const [factors, { events }, sessions] = await Promise.all([
      deps.mfa.factors(u.id),
      deps.admin.auditEvents({ subject: u.id, limit: 20, offset: 0 }),
      deps.knex('account_sessions').where({ user_id: u.id }).whereNull('ended_at').orderBy('last_seen_at', 'desc').limit(20),
    ]);
    render(ctx, 'user', { title: u.email, user: { ...userView(u), mfa_required: u.mfa_required }, factors, events, sessions, self: u.id === viewer(ctx).user.id });
  });
  const action = (name: string, run: (ctx: Context, id: string) => Promise<unknown>, notice: string) =>
    router.post(`/users/:id/${name}`, ...form, async (ctx) => { await run(ctx, ctx.params.id!); back(ctx, `/admin/users/${ctx.params.id}`, notice); });
  action('disable', (ctx, id) => deps.admin.disable(id, origin(ctx)), 'User disabled; their sessions ended.');
  action('enable', (ctx, id) => deps.admin.enable(id, origin(ctx)), 'User enabled.');
  action('reset-mfa', (ctx, id) => deps.admin.resetMfa(id, origin(ctx)), 'Second factors removed.');
  action('revoke-sessions', (ctx, id) => deps.admin.revokeSessions(id, origin(ctx)), 'Every session and grant ended.');
  router.post('/users/:id/impersonate', ...form, async (ctx) => {
    const reason = (ctx.request.body as Record<string, unknown>)?.reason;
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
    back(ctx, '/admin/clients', 'Client deleted.');
  });

  router.get('/workspaces', async (ctx) => { render(ctx, 'workspaces', { title: 'Workspaces', workspaces: await deps.workspaces.operatorList() }); });

  const auditFilter = z.object({ type: z.string().max(100), subject: z.string().max(100), actor: z.string().max(100) }).partial();
  router.get('/audit', async (ctx) => {
    const f = auditFilter.parse({ type: text(ctx, 'type') || undefined, subject: text(ctx, 'subject') || undefined, actor: text(ctx, 'actor') || undefined });
    const page = pageNo(ctx);
    const { total, events } = await deps.admin.auditEvents({ ...f, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    render(ctx, 'audit', { title: 'Audit', events, filter: f, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) });
  });
  return router;
}
