// Builds the oidc-provider instance from its dependencies. Each hook delegates to a small sibling;
// the secure defaults (RFC 9700) are set here in one place.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JsonWebKey } from 'node:crypto';
import type { Config } from '../config/index.ts';
import type { AccountService } from '../accounts/account.service.ts';
import { accountClaims } from '../accounts/account.service.ts';
import type { Views } from '../views/render.ts';
import type { Adapter, AdapterFactory } from './adapters/types.ts';
import { SCOPE_CLAIMS, EXTRA_SCOPES, ACR_VALUES } from './claims.ts';
import { renderProviderError, renderLogout, renderLogoutSuccess } from './pages.ts';

export interface ProviderDeps {
  config: Config;
  adapters: AdapterFactory;
  clientAdapter: Adapter;
  accounts: AccountService;
  views: Views;
  jwks: { keys: JsonWebKey[] };
  cookieKeys: string[];
}

/** Resource servers (RFC 8707) get JWT access tokens (RFC 9068); userinfo tokens stay opaque. */
const RESOURCE_SERVER_SCOPES = 'read write';

function isOriginOfRedirectUri(origin: string, redirectUris: readonly string[] = []): boolean {
  return redirectUris.some((u) => {
    try { return new URL(u).origin === origin; } catch { return false; }
  });
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, accounts } = deps;
  const secureCookies = config.issuer.startsWith('https:');

  const adapters = deps.adapters;
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
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
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
      deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****' },
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
    clientBasedCORS: (_ctx, origin, client) => isOriginOfRedirectUri(origin, client.redirectUris),
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const user = await accounts.findActive(sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        async claims() { return accountClaims(user) as { sub: string }; },
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
  return provider;
}
