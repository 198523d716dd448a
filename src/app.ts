// Koa composition: the middleware order, then our routers, then the provider for everything else.
// Builds no service: each router gets the typed slice of the root (src/root.ts) it uses, spelled
// out here, so a reader sees what each area may touch.
import Koa from 'koa';
import type { Root } from './root.ts';
import type { ProviderHost } from './oidc/host.ts';
import { requestLog, securityHeaders, errorHandler } from './http/middleware.ts';
import { assets } from './http/assets.ts';
import { inputGuard } from './http/input-guard.ts';
import { requireHttps } from './http/require-https.ts';
import { MACHINE_PATHS } from './oidc/fast-path.ts';
import { deviceCodeGuard } from './oidc/device-guard.ts';
import { withRequestLanguage } from './mail/mail-language.ts';
import { pageLanguage } from './http/locale.ts';
import { createHealthRouter, type NodeState } from './health/health.routes.ts';
import { createInteractionRouter } from './interactions/interaction.routes.ts';
import { createFederationRouter } from './federation/federation.routes.ts';
import { createIdentitiesRouter } from './federation/identities.pages.ts';
import { createWorkspacePagesRouter } from './workspaces/workspace.pages.ts';
import { createWorkspaceManageRouter } from './workspaces/workspace-manage.pages.ts';
import { createWorkspaceApiRouter } from './workspaces/workspace.api.ts';
import { createAccountRouter } from './accounts/pages/account.routes.ts';
import { createMeRouter } from './accounts/me.api.ts';
import { createAdminConsole } from './admin/console.pages.ts';
import { createSupportSessionRouter } from './admin/support-session.pages.ts';
import { createAdminApiRouter } from './admin/admin.api.ts';
import { createWebhookAdminRouter } from './admin/webhooks.api.ts';
import { createTransferApiRouter } from './admin/transfer.api.ts';
import { createResourceApiRouter } from './admin/resources.api.ts';
import { createProviderApiRouter } from './admin/providers.api.ts';
import { createApiRouter, apiCorsFor } from './api/api-router.ts';
import { metricsEndpoint, requestMetrics } from './observability/metrics.ts';
import { createHomeRouter } from './setup/home.pages.ts';

/** What the app needs besides the root: the started provider, and the server's own state. */
export interface AppRuntime {
  /** the live provider (src/server.ts starts it before the app) */
  host: ProviderHost;
  /** for /readyz (draining on shutdown) */
  node?: NodeState;
}

export function createApp(root: Root, { host, node }: AppRuntime): Koa {
  const { config, log, views, oidc } = root;
  // the same trust as the provider's (src/oidc/provider.ts): the client is the entry proxyHops from
  // the right of X-Forwarded-For, never one a client wrote further left
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.proxyHops, keys: root.cookieKeys });
  app.silent = true; // errors are logged once, by errorHandler

  app.use(requestLog(log));
  app.use(requestMetrics());
  app.use(metricsEndpoint({ token: config.metricsToken }));
  app.use(securityHeaders(config.issuer));
  app.use(errorHandler(log, views));
  app.use(requireHttps(config.issuer, views, log, MACHINE_PATHS)); // an https issuer's pages and browser endpoints: https only (421)
  app.use(inputGuard(views)); // no control character past here (bodies: src/http/body.ts, src/oidc/provider-input-guard.ts)
  app.use((ctx, next) => withRequestLanguage(() => pageLanguage(ctx), next)); // mail to someone whose language is unknown (src/mail/mail-language.ts)
  app.use(assets(views.brand));

  const health = createHealthRouter({ database: root.probeDatabase, redis: root.redis, node: node ?? { shuttingDown: false } });
  app.use(health.routes());
  // `/`, /favicon.ico and the first-run setup of the first administrator
  app.use(createHomeRouter({ setup: root.setup, views, config }).routes());

  const interactions = createInteractionRouter({
    oidc, workspaces: root.workspaces, accounts: root.accounts, accountCache: root.accountCache, views, mailer: root.mailer,
    adapters: root.adapters, limiters: root.limiters, config, log, mfa: root.mfa, lifecycle: root.lifecycle, audit: root.audit,
    devices: root.deviceCookies, upstream: root.federation.port,
  });
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  app.use(createFederationRouter({
    oidc, workspaces: root.workspaces, accounts: root.accounts, accountCache: root.accountCache, views, mailer: root.mailer,
    adapters: root.adapters, limiters: root.limiters, config, log, mfa: root.mfa, lifecycle: root.lifecycle, audit: root.audit,
    devices: root.deviceCookies, upstream: root.federation.port, session: root.accountSession, ...root.federation,
  }).routes());
  app.use(createWorkspacePagesRouter({
    oidc, config, accounts: root.accounts, workspaces: root.workspaces, invitations: root.invitations,
    views, limiters: root.limiters, log,
    signIn: (ctx, returnTo) => root.accountSession.signIn(ctx, returnTo),
  }).routes());

  app.use(createWorkspaceManageRouter({
    config, workspaces: root.workspaces, invitations: root.invitations, mailer: root.mailer, limiters: root.limiters, views, session: root.accountSession,
  }).routes());
  app.use(createIdentitiesRouter({ identities: root.identities, session: root.accountSession, views, config }).routes());
  const accountRouter = createAccountRouter({
    oidc, accounts: root.accounts, lifecycle: root.lifecycle, profile: root.profile, sessions: root.accountSessionRepo,
    mfa: root.mfa, audit: root.audit, adapters: root.adapters, limiters: root.limiters, views, config, log,
    session: root.accountSession, impersonation: root.impersonation,
  });
  app.use(accountRouter.routes());
  app.use(accountRouter.allowedMethods());

  // the page behind a console's support-session link, for a private window (src/admin/support-session.pages.ts)
  app.use(createSupportSessionRouter({ impersonation: root.impersonation, oidc, views, issuer: config.issuer }).routes());
  const adminConsole = createAdminConsole({
    session: root.accountSession, admin: root.admin, impersonation: root.impersonation, clients: root.clients, mfa: root.mfa,
    audit: root.audit, workspaces: root.workspaces, sessions: root.accountSessionRepo, views, config,
    webhooks: root.webhookAdmin,
    resources: root.resources,
    providers: root.providers,
    keys: root.keys, keysChanged: host.refresh, auditLog: root.auditRepo, oidc,
  });
  app.use(adminConsole.routes());
  app.use(adminConsole.allowedMethods());

  const api = createApiRouter({ issuer: config.issuer }, [
    createMeRouter({ oidc, accountCache: root.accountCache, profile: root.profile }),
    createWorkspaceApiRouter({
      oidc, config, accounts: root.accounts, accountCache: root.accountCache, workspaces: root.workspaces, invitations: root.invitations,
      mailer: root.mailer, limiters: root.limiters, log,
    }),
    createTransferApiRouter({ oidc, accounts: root.accountCache, userImport: root.userImport, userExport: root.userExport }),
    createAdminApiRouter({
      oidc, transactions: root.transactions, accounts: root.accounts, sessions: root.accountSessionRepo, accountCache: root.accountCache, clients: root.clients, keys: root.keys,
      adapters: root.adapters, audit: root.audit, log, mfa: root.mfa, impersonation: root.impersonation, admin: root.admin,
      keysChanged: host.refresh,
    }),
    createResourceApiRouter({ oidc, accounts: root.accountCache, resources: root.resources }),
    createProviderApiRouter({ oidc, accounts: root.accountCache, providers: root.providers }),
    createWebhookAdminRouter({ oidc, accounts: root.accountCache, webhooks: root.webhookAdmin }),
  ]);
  app.use(apiCorsFor(root.clientOrigins));
  app.use(api.routes());
  app.use(api.allowedMethods());

  app.use(deviceCodeGuard({ provider: host.current, limiters: root.limiters, views }));

  // Everything else is the provider's: discovery, authorize, token, userinfo, jwks, …
  const callbacks = new WeakMap<object, ReturnType<ReturnType<ProviderHost['current']>['callback']>>();
  app.use(async (ctx) => {
    const provider = host.current();
    let handle = callbacks.get(provider);
    if (!handle) { handle = provider.callback(); callbacks.set(provider, handle); }
    ctx.respond = false;
    await handle(ctx.req, ctx.res);
  });
  return app;
}
