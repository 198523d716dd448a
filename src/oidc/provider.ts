// Builds the oidc-provider instance from its dependencies. Each hook delegates to a small sibling;
// the secure defaults (RFC 9700) are set here in one place.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JsonWebKey } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import type { AccountService } from '../accounts/account.service.ts';
import { accountClaims } from '../accounts/account.service.ts';
import type { AccountCache } from '../accounts/account-cache.ts';
import type { Views } from '../views/render.ts';
import type { Adapter, AdapterFactory } from './adapters/types.ts';
import { SCOPE_CLAIMS, EXTRA_SCOPES, ACR_VALUES } from './claims.ts';
import { renderProviderError, renderLogout, renderLogoutSuccess } from './pages.ts';
import { createDeviceFlow } from './device.ts';
import { devicePolling } from './device-polling.ts';
import { createPolicy } from './policy.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import { checkWorkspaceParam, withWorkspacePrompt, WORKSPACE_PARAM } from './workspace-prompt.ts';
import { accountWorkspace, workspaceTokenClaims } from './workspace-claims.ts';
import { firstPartyGrant } from './first-party.ts';

export interface ProviderDeps {
  accountCache: AccountCache;
  config: Config;
  adapters: AdapterFactory;
  /** Redis when configured (device polls are timed there in one round trip); else the adapters' store */
  redis?: Redis;
  clientAdapter: Adapter;
  accounts: AccountService;
  workspaces: WorkspaceService;
  views: Views;
  jwks: { keys: JsonWebKey[] };
  cookieKeys: string[];
}

/** Resource servers (RFC 8707) get JWT access tokens (RFC 9068); userinfo tokens stay opaque.
 * `workspace` puts the active workspace's flat claims in the JWT (docs/workspaces.md). */
const RESOURCE_SERVER_SCOPES = 'read write workspace';

function isOriginOfRedirectUri(origin: string, redirectUris: readonly string[] = []): boolean {
  return redirectUris.some((u) => {
    try { return new URL(u).origin === origin; } catch { return false; }
  });
}

/**
 * oidc-provider replaces a token's `extra` with what extraTokenClaims returns when it saves the
 * token; an impersonation token's actor (act, RFC 8693) must survive that.
 */
function withActor(inner: (ctx: KoaContextWithOIDC, token: never) => Promise<Record<string, unknown> | undefined>) {
  return async (ctx: KoaContextWithOIDC, token: { extra?: { act?: unknown } }) => {
    const claims = await inner(ctx, token as never);
    return token.extra?.act ? { ...claims, act: token.extra.act } : claims;
  };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, accounts } = deps;
  const secureCookies = config.issuer.startsWith('https:');

  const adapters = deps.adapters;
  const device = createDeviceFlow({ views: deps.views, accounts });
  const clientAdapter = deps.clientAdapter;
  // oidc-provider constructs adapters with `new`; a constructor may return the object to use.
  class AdapterBridge {
    constructor(name: string) {
      return (name === 'Client' ? clientAdapter : adapters(name)) as unknown as AdapterBridge;
    }
  }

  const configuration: Configuration = {
    adapter: AdapterBridge as unknown as Configuration['adapter'],
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: true },
      names: { session: 'gh_session', interaction: 'gh_interaction', resume: 'gh_resume' },
    },
    claims: SCOPE_CLAIMS,
    scopes: EXTRA_SCOPES,
    acrValues: ACR_VALUES,
    responseTypes: ['code'],
    // OpenID Connect: scope claims in the ID token too, so RPs get them without a userinfo call.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    rotateRefreshToken: true,
    ttl: {
      AuthorizationCode: config.ttl.authorizationCode,
      AccessToken: config.ttl.accessToken,
      ClientCredentials: config.ttl.accessToken,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Session: config.ttl.session,
      Grant: config.ttl.refreshToken,
      Interaction: 60 * 60, // an hour to finish signing in
      DeviceCode: config.ttl.deviceCode,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: withWorkspacePrompt(createPolicy(), deps.workspaces) },
    // workspace=<id or slug> chooses the active workspace; access tokens carry it (docs/workspaces.md)
    extraParams: { [WORKSPACE_PARAM]: checkWorkspaceParam },
    extraTokenClaims: withActor(workspaceTokenClaims(deps.workspaces)),
    // Gatehouse's per-client policies (set from the CLI, the clients file or the admin API)
    extraClientMetadata: { properties: ['require_mfa', 'require_email_verification'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only confidential (authenticated) clients may introspect (RFC 7662 §2.1).
        allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      deviceFlow: device.feature,
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => renderLogout(deps.views, ctx, form),
        postLogoutSuccessSource: (ctx) => renderLogoutSuccess(deps.views, ctx),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined as unknown as string,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (!config.resources.includes(resourceIndicator)) throw new errors.InvalidTarget('unknown resource indicator');
          return {
            scope: RESOURCE_SERVER_SCOPES,
            audience: resourceIndicator,
            accessTokenTTL: config.ttl.accessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // the account pages' first-party grant, else the device flow's (which confirms on its own page)
    loadExistingGrant: async (ctx) => (await firstPartyGrant(ctx)) ?? device.loadExistingGrant(ctx),
    clientBasedCORS: (_ctx, origin, client) => isOriginOfRedirectUri(origin, client.redirectUris),
    async findAccount(_ctx: KoaContextWithOIDC, sub: string, found?: unknown) {
      const token = found as { extra?: { act?: unknown } } | undefined;
      const user = await deps.accountCache.findActive(sub); // no query when cached (refresh, userinfo)
      if (!user) return undefined;
      const workspace = accountWorkspace(deps.workspaces, user.id);
      return {
        accountId: user.id,
        workspace, // read again by extraTokenClaims for the same token response
        async claims(_use: string, scope: string) {
          // an impersonation token says who is acting (RFC 8693 §4.1), at userinfo too
          const act = token?.extra?.act ? { act: token.extra.act } : {};
          return { ...accountClaims(user), ...await workspace.claims(scope), ...act } as { sub: string };
        },
      };
    },
    renderError: (ctx, out, error) => renderProviderError(deps.views, ctx, out as unknown as Record<string, unknown>, error),
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  provider.use(devicePolling(adapters, deps.redis && { client: deps.redis, prefix: config.redisPrefix }));
  return provider;
}
