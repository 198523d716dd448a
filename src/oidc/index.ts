// Assembles the provider side: adapters (Redis or SQL), the provider host, and the facade the
// layers above use. What it needs from accounts, workspaces and admin comes through the ports of
// src/oidc/ports.ts, which src/server.ts wires.
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Views } from '../render/views.ts';
import type { ClientService } from '../clients/client.service.ts';
import type { ClientChangeFeed } from '../clients/client-changes.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { createRedisAdapterFactory } from './adapters/redis-adapter.ts';
import { createSqlAdapterFactory } from './adapters/sql-adapter.ts';
import { createClientAdapter } from './adapters/client-adapter.ts';
import { createProvider } from './provider.ts';
import { createProviderHost, type ProviderHost } from './host.ts';
import { createProviderFacade, type ProviderFacade } from './facade.ts';
import type { AccountsPort, ImpersonationPort, WorkspacesPort } from './ports.ts';
import { trackSessions } from './session-tracking.ts';
import { registerTokenExchange } from './grants/token-exchange.ts';
import { observeProvider } from './events.ts';
import { guardProviderInput } from './provider-input-guard.ts';
import { deriveKey } from '../security/secretbox.ts';

export function createAdapterFactory(stores: { config: Pick<Config, 'redisPrefix'>; knex: Knex }, redis?: Redis): AdapterFactory {
  return redis ? createRedisAdapterFactory(redis, stores.config.redisPrefix) : createSqlAdapterFactory(stores.knex);
}

export function cookieKeysFrom(secret: string): string[] {
  return [deriveKey(secret, 'gatehouse cookies').toString('base64url')];
}

export interface OidcDeps {
  config: Config;
  knex: Knex;
  redis?: Redis;
  clients: ClientService;
  clientChanges: ClientChangeFeed;
  keys: KeyService;
  accounts: AccountsPort;
  workspaces: WorkspacesPort;
  /** the token-exchange grant's impersonation, which mints through the facade */
  impersonation: (oidc: ProviderFacade) => ImpersonationPort;
}

export async function createOidc(deps: OidcDeps, views: Views, log: Logger): Promise<{ adapters: AdapterFactory; host: ProviderHost; facade: ProviderFacade; cookieKeys: string[] }> {
  const { config } = deps;
  const adapters = createAdapterFactory(deps, deps.redis);
  const clientAdapter = createClientAdapter(deps.clients, deps.clientChanges);
  const cookieKeys = cookieKeysFrom(config.secret);
  // the facade reads the live provider; the first is built inside createProviderHost, before `host` is set
  let host: ProviderHost | undefined;
  const facade = createProviderFacade(() => host!.current());
  const impersonation = deps.impersonation(facade);
  host = await createProviderHost({
    keys: deps.keys,
    refreshSeconds: config.keyRefreshSeconds,
    log,
    build: (jwks) => registerTokenExchange(trackSessions(guardProviderInput(observeProvider(createProvider({
      config, adapters, redis: deps.redis, clientAdapter, accounts: deps.accounts, workspaces: deps.workspaces, views, jwks, cookieKeys,
    }), { views, log }), views), deps.knex, log), { accounts: deps.accounts, impersonation }),
  });
  return { adapters, host, facade, cookieKeys };
}
