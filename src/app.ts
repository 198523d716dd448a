// Koa composition: our routers first, then the provider for everything else.
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Container } from './root.ts';
import type { ProviderHost } from './oidc/host.ts';
import type { ProviderFacade } from './oidc/facade.ts';
import type { Views } from './render/views.ts';
import type { Mailer } from './mail/mailer.ts';
import type { AdapterFactory } from './storage/short-lived-store.ts';
import type { LimiterFactory } from './security/rate-limit.ts';
import { requestLog, securityHeaders, errorHandler } from './http/middleware.ts';
import { assets } from './http/assets.ts';
import { inputGuard } from './http/input-guard.ts';
import { requireHttps } from './http/require-https.ts';
import { DIRECT_PATHS } from './oidc/fast-path.ts';
import { createHealthRouter, type NodeState } from './health/health.routes.ts';
import { createInteractionRouter } from './interactions/interaction.routes.ts';
import { createApiRouter, apiCorsFor } from './api/api-router.ts';
import { createWorkspaceApiRouter } from './workspaces/workspace.api.ts';
import { createAdminApiRouter } from './admin/admin.api.ts';
import { createImpersonation, impersonationPolicy } from './admin/impersonation.ts';
import { createMeRouter } from './accounts/me.api.ts';
import { createClientOrigins } from './clients/client-origins.ts';
import { createAdminService } from './admin/admin.service.ts';
import { createAdminConsole } from './admin/console.pages.ts';
import { createWorkspacePagesRouter } from './workspaces/workspace.pages.ts';
import { createAudit } from './audit/audit.ts';
import { deviceCodeGuard } from './oidc/device-guard.ts';
import { createMfa } from './mfa/index.ts';
import { createLifecycle } from './accounts/lifecycle.ts';
import { createMailTokens } from './accounts/mail-tokens.ts';
import { createAccountRouter } from './accounts/pages/account.routes.ts';
import { createAccountSession } from './accounts/pages/account-sign-in.ts';
import { countQueries, metricsEndpoint, requestMetrics } from './observability/metrics.ts';

export interface AppDeps {
  container: Container;
  host: ProviderHost;
  /** the provider, for the layers above oidc/ */
  oidc: ProviderFacade;
  views: Views;
  mailer: Mailer;
  adapters: AdapterFactory;
  limiters: LimiterFactory;
  cookieKeys: string[];
  log: Logger;
  /** the server's own state, for /readyz (draining on shutdown) */
  node?: NodeState;
}

export function createApp(deps: AppDeps): Koa {
  const { container, host, oidc, log } = deps;
  const { config } = container;
  // the same trust as the provider's (src/oidc/provider.ts): the client is the entry proxyHops from
  // the right of X-Forwarded-For, never one a client wrote further left
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.proxyHops, keys: deps.cookieKeys });
  app.silent = true; // errors are logged once, by errorHandler

  app.use(requestLog(log));
  app.use(requestMetrics());
  app.use(metricsEndpoint({ token: config.metricsToken }));
  countQueries(container.knex);
  app.use(securityHeaders(config.issuer));
  app.use(errorHandler(log, deps.views));
  app.use(requireHttps(config.issuer, deps.views, log, DIRECT_PATHS)); // an https issuer's pages and browser endpoints: https only (421)
  app.use(inputGuard(deps.views)); // no control character past here (bodies: src/http/body.ts, src/oidc/provider-input-guard.ts)
  app.use(assets());

  const health = createHealthRouter({ knex: container.knex, redis: container.redis, node: deps.node ?? { shuttingDown: false } });
  app.use(health.routes());

  const audit = createAudit(container.knex);
  const mfa = createMfa({ knex: container.knex, box: container.box, adapters: deps.adapters, issuer: config.issuer, productName: 'Gatehouse' });
  const lifecycle = createLifecycle({
    knex: container.knex, accounts: container.accounts, tokens: createMailTokens({ knex: container.knex }), mailer: deps.mailer,
    audit, adapters: deps.adapters, issuer: config.issuer, log,
  });
  const accountSession = createAccountSession({ oidc, accounts: container.accounts, issuer: config.issuer });
  const impersonation = createImpersonation({
    oidc, knex: container.knex, accounts: container.accounts, audit, policy: impersonationPolicy(config),
  });
  const admin = createAdminService({ knex: container.knex, audit, adapters: deps.adapters, mfa });

  const interactions = createInteractionRouter({
    oidc, workspaces: container.workspaces, accounts: container.accounts, views: deps.views, mailer: deps.mailer,
    adapters: deps.adapters, limiters: deps.limiters, config, log, mfa, lifecycle, audit,
  });
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  app.use(createWorkspacePagesRouter({
    oidc, config, accounts: container.accounts, workspaces: container.workspaces, invitations: container.invitations,
    views: deps.views, limiters: deps.limiters, log,
    signIn: (ctx, returnTo) => accountSession.signIn(ctx, returnTo),
  }).routes());

  const accountRouter = createAccountRouter({
    oidc, accounts: container.accounts, lifecycle, mfa, audit, adapters: deps.adapters, limiters: deps.limiters,
    views: deps.views, config, knex: container.knex, log,
    session: accountSession, impersonation,
  });
  app.use(accountRouter.routes());
  app.use(accountRouter.allowedMethods());

  const adminConsole = createAdminConsole({
    session: accountSession, admin, impersonation, clients: container.clients, mfa, audit, workspaces: container.workspaces,
    knex: container.knex, views: deps.views, config,
  });
  app.use(adminConsole.routes());
  app.use(adminConsole.allowedMethods());

  const { knex, accounts, accountCache } = container;
  const api = createApiRouter({ issuer: config.issuer }, [
    createMeRouter({ oidc, accountCache, knex, audit }),
    createWorkspaceApiRouter({
      oidc, config, accounts, accountCache, workspaces: container.workspaces, invitations: container.invitations,
      mailer: deps.mailer, limiters: deps.limiters, log,
    }),
    createAdminApiRouter({
      oidc, knex, accounts, accountCache, clients: container.clients, keys: container.keys, adapters: deps.adapters, audit, log,
      mfa, impersonation, admin, keysChanged: host.refresh,
    }),
  ]);
  app.use(apiCorsFor(createClientOrigins(container.clients, container.clientChanges)));
  app.use(api.routes());
  app.use(api.allowedMethods());

  app.use(deviceCodeGuard({ provider: host.current, limiters: deps.limiters, views: deps.views }));

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
