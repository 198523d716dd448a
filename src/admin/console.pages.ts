// The admin console: server-rendered pages over the same operations as the admin API, for an
// admin signed in to the hosted session — with MFA unless GATEHOUSE_ADMIN_CONSOLE_MFA=false.
//   /admin/users… (src/admin/users.console.ts: create, edit, password, sessions, MFA, disable, delete, impersonation, support sessions)
//   /admin/clients… (src/admin/clients.console.ts) · /admin/keys… (src/admin/keys.console.ts)
//   /admin/workspaces… (src/admin/workspaces.console.ts: members, roles, rename, delete) · GET /admin/audit (src/admin/audit.console.ts: filters, pages)
//   POST /admin/sign-out → the provider's end_session as the account client → GET /admin/signed-out
import Router from '@koa/router';
import type { Context, Next } from 'koa';
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
import { createPageRenderer } from '../http/page.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import type { AdminService } from './admin.service.ts';
import type { Impersonation } from './impersonation.ts';
import { addWebhookConsole } from './webhooks.console.ts';
import { addUserConsole, USER_NOTICES } from './users.console.ts';
import { addWorkspaceConsole, WORKSPACE_NOTICES } from './workspaces.console.ts';
import type { WebhookAdmin } from './webhooks.manage.ts';
import { addResourceConsole } from './resources.console.ts';
import type { ResourceService } from '../resources/resource.service.ts';
import { addProviderConsole } from './providers.console.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import { ACCOUNT_CLIENT_ID } from '../clients/client.service.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { AuditRepo } from '../audit/audit.repo.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import { addClientConsole } from './clients.console.ts';
import { addKeyConsole } from './keys.console.ts';
import { addAuditConsole } from './audit.console.ts';

/** The console's sections, in the nav's order; the current one is the first segment of the path (after a POST too). */
const NAV = [
  ['/admin/users', 'Users'], ['/admin/clients', 'Clients'], ['/admin/workspaces', 'Workspaces'], ['/admin/providers', 'Sign-in providers'],
  ['/admin/resources', 'Resources'], ['/admin/webhooks', 'Webhooks'], ['/admin/keys', 'Signing keys'], ['/admin/audit', 'Audit'],
] as const;
/** Where the provider's end_session returns after the console's sign-out (registered for the account client). */
const SIGNED_OUT_PATH = '/admin/signed-out';

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
  /** the signing-key pages (src/admin/keys.console.ts) and this node's re-read of the keys */
  keys: KeyService; keysChanged: () => Promise<unknown>;
  /** the audit log page (src/admin/audit.console.ts): events with names, the types it holds */
  auditLog: Pick<AuditRepo, 'searchNamed' | 'types'>;
  /** sign-out: whether the browser is still signed in, and the provider's end_session route */
  oidc: Pick<ProviderFacade, 'signedInAccountId' | 'routes'>;
}

/**
 * The one-line notices a page shows after a POST, by key. Only a key travels in the URL, and only
 * these words are ever shown: a link somebody else wrote (`?notice=Call us on …`) shows nothing,
 * never their words in the console's trusted banner.
 */
export const CONSOLE_NOTICES = {
  ...USER_NOTICES, // src/admin/users.console.ts
  ...WORKSPACE_NOTICES, // src/admin/workspaces.console.ts
} as const;
export type ConsoleNotice = keyof typeof CONSOLE_NOTICES;
const noticeOf = (key: unknown): string | undefined =>
  typeof key === 'string' && Object.hasOwn(CONSOLE_NOTICES, key) ? CONSOLE_NOTICES[key as ConsoleNotice] : undefined;


export function createAdminConsole(deps: ConsoleDeps): Router {
  const router = new Router({ prefix: '/admin' });
  const form = [formBody(), requireCsrf(new URL(deps.config.issuer).origin)];
  const mfaRequired = deps.config.administration.consoleMfa;

  async function gate(ctx: Context, next: Next) {
    const returnTo = ctx.method === 'GET' ? ctx.originalUrl : '/admin/users';
    const v = await deps.session.viewer(ctx);
    // sign in first; ask for the second factor only once we know this is an admin
    if (!v) return deps.session.signIn(ctx, returnTo);
    // a support session as an admin (GATEHOUSE_IMPERSONATE_ADMINS) helps on the account pages only
    if (v.amr.includes('support')) throw new AppError(403, 'support_session', 'A support session cannot use the console. Sign in as yourself in another browser.');
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
      nav: NAV, current: `/admin/${ctx.path.split('/')[2] ?? ''}`, admin: (ctx.state.viewer as AccountViewer | undefined)?.user, notice: noticeOf(ctx.query.notice),
    }),
  });

  // Signing out: not behind the gate (a browser whose session already ended may press it too).
  // Through the provider's RP-initiated logout as the account client, as the account pages do: it
  // ends the session properly (grants, the upstream sign-out) and returns to the signed-out page.
  router.post('/sign-out', ...form, (ctx) => {
    const url = new URL(deps.oidc.routes.end_session, deps.config.issuer);
    url.search = new URLSearchParams({ client_id: ACCOUNT_CLIENT_ID, post_logout_redirect_uri: `${deps.config.issuer}${SIGNED_OUT_PATH}` }).toString();
    ctx.status = 303;
    ctx.redirect(url.toString());
  });
  router.get('/signed-out', async (ctx) => {
    // "No, stay signed in" also comes back here
    if (await deps.oidc.signedInAccountId(ctx)) return ctx.redirect('/admin');
    render(ctx, 'signed-out', { title: 'Signed out' });
  });

  router.use(gate);
  router.get('/', (ctx) => ctx.redirect('/admin/users'));

  // users, their sessions, impersonation and support sessions (src/admin/users.console.ts)
  addUserConsole(router, {
    admin: deps.admin, impersonation: deps.impersonation, mfa: deps.mfa, render, form, origin,
    adminId: (ctx) => viewer(ctx).user.id, issuer: deps.config.issuer,
  });

  addClientConsole(router, { clients: deps.clients, audit: deps.audit, render, form, origin }); // src/admin/clients.console.ts
  addKeyConsole(router, { // src/admin/keys.console.ts
    keys: deps.keys, audit: deps.audit, render, form, origin, keysChanged: deps.keysChanged, activationDelaySeconds: deps.config.keyActivationDelaySeconds,
  });

  addWebhookConsole(router, { webhooks: deps.webhooks, render, form, origin, retentionDays: deps.config.webhooks.retentionDays });
  addResourceConsole(router, { resources: deps.resources, render, form, origin });
  addProviderConsole(router, { providers: deps.providers, render, form, origin });

  addWorkspaceConsole(router, { workspaces: deps.workspaces, render, form, origin }); // src/admin/workspaces.console.ts

  addAuditConsole(router, { auditLog: deps.auditLog, clients: deps.clients, render }); // src/admin/audit.console.ts
  return router;
}
