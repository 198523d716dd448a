// Koa composition: our routers first, then the provider for everything else.
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Container } from './container.ts';
import type { ProviderHost } from './oidc/host.ts';
import type { Views } from './views/render.ts';
import type { Mailer } from './mail/mailer.ts';
import type { AdapterFactory } from './oidc/adapters/types.ts';
import type { LimiterFactory } from './security/rate-limit.ts';
import { requestLog, securityHeaders, errorHandler } from './http/middleware.ts';
import { assets } from './http/assets.ts';
import { createHealthRouter } from './health/router.ts';
import { createInteractionRouter } from './interactions/router.ts';
import { createApiRouter, apiCorsFor } from './api/router.ts';
import { createAudit } from './audit/audit.ts';

export interface AppDeps {
  container: Container;
  host: ProviderHost;
  views: Views;
  mailer: Mailer;
  adapters: AdapterFactory;
  limiters: LimiterFactory;
  cookieKeys: string[];
  log: Logger;
}

export function createApp(deps: AppDeps): Koa {
  const { container, host, log } = deps;
  const { config } = container;
  const app = new Koa({ proxy: config.trustProxy, keys: deps.cookieKeys });
  app.silent = true; // errors are logged once, by errorHandler

  app.use(requestLog(log));
  app.use(securityHeaders());
  app.use(errorHandler(log, deps.views));
  app.use(assets());

  const health = createHealthRouter({ knex: container.knex, redis: container.redis, embedded: container.db.kind === 'embedded' });
  app.use(health.routes());

  const interactions = createInteractionRouter({
    provider: host.current, accounts: container.accounts, views: deps.views, mailer: deps.mailer,
    adapters: deps.adapters, limiters: deps.limiters, config, log,
  });
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());

  const apiDeps = { provider: host.current, container, audit: createAudit(container.knex), mailer: deps.mailer, log };
  const api = createApiRouter(apiDeps);
  app.use(apiCorsFor(apiDeps));
  app.use(api.routes());
  app.use(api.allowedMethods());

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
