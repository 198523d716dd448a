// Assembles the provider side: the adapter factory (Redis or SQL), the provider host, and the facade
// the layers above use. What it needs from accounts, workspaces and admin comes through the ports of
// src/oidc/ports.ts, which the composition root (src/root.ts) wires; the root builds each piece once.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Views } from '../render/views.ts';
import type { ClientService } from '../clients/client.service.ts';
import type { ClientChangeFeed } from '../clients/client-changes.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { ResourceRegistry } from '../resources/resource-registry.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { createRedisAdapterFactory } from './adapters/redis-adapter.ts';
import { createSqlAdapterFactory } from './adapters/sql-adapter.ts';
import type { OidcRecordRepo } from './adapters/oidc-record.repo.ts';
import { createClientAdapter } from './adapters/client-adapter.ts';
import { createProvider } from './provider.ts';
import { createProviderHost, type ProviderHost } from './host.ts';
import { createProviderFacade, type ProviderFacade } from './facade.ts';
import type { AccountsPort, ImpersonationPort, SessionLog, UpstreamLogoutPort, WorkspacesPort } from './ports.ts';
import { signOutUpstream } from './upstream-logout.ts';
import { trackSessions } from './session-tracking.ts';
import { registerTokenExchange } from './grants/token-exchange.ts';
import { observeProvider } from './events.ts';
import { guardProviderInput } from './provider-input-guard.ts';
import { deriveKey } from '../security/secretbox.ts';
import { sessionCookieOptions } from './authorize-post.ts';

/** The provider's short-lived records: in Redis when configured, else in the database's oidc records. */
export function createAdapterFactory(stores: { redis?: Redis; redisPrefix: string; records: OidcRecordRepo }): AdapterFactory {
  return stores.redis ? createRedisAdapterFactory(stores.redis, stores.redisPrefix) : createSqlAdapterFactory(stores.records);
}

export function cookieKeysFrom(secret: string): string[] {
  return [deriveKey(secret, 'gatehouse cookies').toString('base64url')];
}

export interface OidcDeps {
  config: Config;
  redis?: Redis;
  /** the one short-lived store, built by the composition root (src/root.ts) */
  adapters: AdapterFactory;
  clients: ClientService;
  clientChanges: ClientChangeFeed;
  keys: KeyService;
  accounts: AccountsPort;
  workspaces: WorkspacesPort;
  /** the resources (APIs) the provider serves, from the node's memory */
  resources: ResourceRegistry;
  /** where the session-tracking listener records sessions, for the sessions page */
  sessionLog: SessionLog;
  views: Views;
  log: Logger;
}

export interface Oidc {
  /** the provider for the layers above oidc/: it answers once start() has resolved */
  facade: ProviderFacade;
  cookieKeys: string[];
  /**
   * Builds the provider from the signing keys (they must exist: KeyService.ensureKeys) and keeps it
   * current. `impersonation`: the token-exchange grant's, which mints through the facade. Once.
   */
  start(late: { impersonation: ImpersonationPort; upstreamLogout?: UpstreamLogoutPort }): Promise<ProviderHost>;
}

export function createOidc(deps: OidcDeps): Oidc {
  const { config, adapters, views, log } = deps;
  const clientAdapter = createClientAdapter(deps.clients, deps.clientChanges);
  const cookieKeys = cookieKeysFrom(config.secret);
  // the facade reads the live provider (the host swaps in a new one when the keys change)
  let host: ProviderHost | undefined;
  const facade = createProviderFacade(() => {
    if (!host) throw new Error('the provider is not started yet (Oidc.start)');
    return host.current();
  }, { sessionCookie: { httpOnly: true, ...sessionCookieOptions(config), signed: true } }); // as provider.ts's cookies.long
  return {
    facade,
    cookieKeys,
    async start({ impersonation, upstreamLogout }) {
      if (host) throw new Error('the provider is already started: one provider host per root');
      host = await createProviderHost({
        keys: deps.keys,
        refreshSeconds: config.keyRefreshSeconds,
        log,
        build: (jwks) => signOutUpstream(registerTokenExchange(trackSessions(guardProviderInput(observeProvider(createProvider({
          config, adapters, redis: deps.redis, clientAdapter, accounts: deps.accounts, workspaces: deps.workspaces, resources: deps.resources, views, jwks, cookieKeys,
        }), { views, log }), views), deps.sessionLog, log), { accounts: deps.accounts, impersonation }), upstreamLogout),
      });
      return host;
    },
  };
}
