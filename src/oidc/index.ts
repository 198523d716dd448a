// Assembles the provider side from the container: adapters (Redis or SQL), the provider host.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Container } from '../root.ts';
import type { Views } from '../render/views.ts';
import { createRedisAdapterFactory } from './adapters/redis.ts';
import { createSqlAdapterFactory } from './adapters/sql.ts';
import { createClientAdapter } from './adapters/client.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { createProvider } from './provider.ts';
import { createProviderHost } from './host.ts';
import { trackSessions } from './session-tracking.ts';
import { registerTokenExchange } from './grants/token-exchange.ts';
import { createAudit } from '../audit/audit.ts';
import { observeProvider } from './events.ts';
import { guardProviderInput } from './provider-input-guard.ts';
import { deriveKey } from '../security/secretbox.ts';

export function createAdapterFactory(container: Container, redis?: Redis): AdapterFactory {
  return redis ? createRedisAdapterFactory(redis, container.config.redisPrefix) : createSqlAdapterFactory(container.knex);
}

export function cookieKeysFrom(secret: string): string[] {
  return [deriveKey(secret, 'gatehouse cookies').toString('base64url')];
}

export async function createOidc(container: Container, views: Views, log: Logger) {
  const adapters = createAdapterFactory(container, container.redis);
  const clientAdapter = createClientAdapter(container.clients, container.clientChanges);
  const cookieKeys = cookieKeysFrom(container.config.secret);
  const host = await createProviderHost({
    keys: container.keys,
    refreshSeconds: container.config.keyRefreshSeconds,
    log,
    build: (jwks) => registerTokenExchange(trackSessions(guardProviderInput(observeProvider(createProvider({
      config: container.config, adapters, redis: container.redis, clientAdapter, accounts: container.accounts, accountCache: container.accountCache, workspaces: container.workspaces, views, jwks, cookieKeys,
    }), { views, log }), views), container.knex, log), {
      knex: container.knex, accounts: container.accounts, audit: createAudit(container.knex),
      policy: { ttlSeconds: container.config.administration.impersonationTtl, allowAdminTargets: container.config.administration.impersonateAdmins },
    }),
  });
  return { adapters, host, cookieKeys };
}
