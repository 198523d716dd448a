// Builds the oidc-provider instance from its dependencies. Each hook delegates to a small sibling;
// the secure defaults (RFC 9700) are set here in one place.
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JsonWebKey } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import type { AccountsPort, WorkspacesPort } from './ports.ts';
import type { Views } from '../render/views.ts';
import type { Adapter, AdapterFactory } from '../storage/short-lived-store.ts';
import { SCOPE_CLAIMS, EXTRA_SCOPES, ACR_VALUES } from './claims.ts';
import { answerStoreFailures, renderProviderError, renderLogout, renderLogoutSuccess } from './provider-pages.ts';
import { settleRotations } from './adapters/rotation.ts';
import { createDeviceFlow } from './device.ts';
import { issuedUserCodes } from './device-expiry.ts';
import { confidentialClientHint } from './device-client-hint.ts';
import { devicePolling } from './device-polling.ts';
import { catchEscapedErrors } from './provider-input-guard.ts';
import { createPolicy } from './policy.ts';
import { checkWorkspaceParam, withWorkspacePrompt, WORKSPACE_PARAM } from './workspace-prompt.ts';
import { workspaceTokenClaims } from './workspace-token-claims.ts';
import { withResourceClaims } from './resource-token-claims.ts';
import { resourceServerInfo, resourceTokenTtl } from './resource-servers.ts';
import type { ResourceRegistry } from '../resources/resource-registry.ts';
import { firstPartyGrant } from './first-party.ts';
import { introspectionAllowed, revocationAllowed, RESOURCE_SERVER_PROPERTY } from './token-access.ts';
import { checkImpliedConsentParam, IMPLIED_CONSENT_PARAM, offlineAccessConsent } from './offline-access.ts';
import { loopbackSecureCookies, sessionCookieOptions } from './authorize-post.ts';
import { noRefreshTokenFromSupport, supportAwareSessionTtl } from './support-session.ts';
import { PROVIDER_ROUTES } from './internals.ts';

export interface ProviderDeps {
  config: Config;
  adapters: AdapterFactory;
  /** Redis when configured (device polls are timed there in one round trip); else the adapters' store */
  redis?: Redis;
  clientAdapter: Adapter;
  /** accounts (the token hot path reads them from the node's account cache) */
  accounts: AccountsPort;
  workspaces: WorkspacesPort;
  /** the resources (APIs) in this node's memory: GATEHOUSE_RESOURCES and the stored ones */
  resources: ResourceRegistry;
  views: Views;
  jwks: { keys: JsonWebKey[] };
  cookieKeys: string[];
}

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
  // the provider's own session settings, read when a code page must store a session (src/oidc/internals.ts)
  const issued = issuedUserCodes(adapters); // an expired user code is told "expired", not counted as wrong
  const device = createDeviceFlow({ views: deps.views, accounts, issued, session: () => ({ ttl: configuration.ttl!.Session!, cookie: configuration.cookies!.long! }) });
  const clientAdapter = deps.clientAdapter;
  // oidc-provider constructs adapters with `new`; a constructor may return the object to use.
  class AdapterBridge {
    constructor(name: string) {
      return (name === 'Client' ? clientAdapter : adapters(name)) as unknown as AdapterBridge;
    }
  }

  // A disabled account's tokens are inactive at introspection as at refresh and userinfo (which ask
  // findAccount), also while its grants are not yet revoked: a disable whose revocation failed
  // (Redis unavailable) is safe until it is run again.
  const accountActive = async (token: { accountId?: string }) => !token.accountId || !!await accounts.findActive(token.accountId);

  const configuration: Configuration = {
    adapter: AdapterBridge as unknown as Configuration['adapter'],
    jwks: deps.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      // SameSite=None (and Secure) only with GATEHOUSE_AUTHORIZE_POST: src/oidc/authorize-post.ts
      long: { httpOnly: true, ...sessionCookieOptions(config), signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: true },
      names: { session: 'gh_session', interaction: 'gh_interaction', resume: 'gh_resume' },
    },
    // the library's default paths, stated from the one table the rest of Gatehouse matches against
    routes: { ...PROVIDER_ROUTES },
    claims: SCOPE_CLAIMS,
    scopes: EXTRA_SCOPES,
    acrValues: ACR_VALUES,
    responseTypes: ['code'],
    // OIDC Core 3.1.2.1: POST at /auth (and /session/end), when the cookies allow it
    enableHttpPostMethods: config.authorizePost,
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
    // the provider's default rule, but never from a support session (src/oidc/support-session.ts)
    issueRefreshToken: noRefreshTokenFromSupport as never,
    ttl: {
      AuthorizationCode: config.ttl.authorizationCode,
      // a resource's own lifetime (src/oidc/resource-servers.ts), else GATEHOUSE_ACCESS_TOKEN_TTL
      AccessToken: resourceTokenTtl(config.ttl.accessToken),
      ClientCredentials: resourceTokenTtl(config.ttl.accessToken),
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      // a support session (src/oidc/support-session.ts) keeps its own, shorter end
      Session: supportAwareSessionTtl(config.ttl.session, config.administration.impersonationTtl),
      Grant: config.ttl.refreshToken,
      Interaction: 60 * 60, // an hour to finish signing in
      DeviceCode: config.ttl.deviceCode,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: withWorkspacePrompt(createPolicy(), deps.workspaces) },
    // workspace=<id or slug> chooses the active workspace; access tokens carry it (docs/workspaces.md)
    // idp=<name>: go straight to that upstream provider (src/federation/; an unknown one shows the sign-in page)
    extraParams: { [WORKSPACE_PARAM]: checkWorkspaceParam(deps.workspaces), [IMPLIED_CONSENT_PARAM]: checkImpliedConsentParam, idp: null },
    // the active workspace's flat claims, and the user claims a resource asks for (docs/resources.md)
    extraTokenClaims: withActor(withResourceClaims(deps, workspaceTokenClaims(deps.workspaces))),
    // Gatehouse's per-client policies (set from the CLI, the clients file or the admin API)
    extraClientMetadata: { properties: ['require_mfa', 'require_email_verification', 'password_sign_in', 'signup_policy', RESOURCE_SERVER_PROPERTY] },
    // the languages of the hosted pages (src/render/i18n.ts LANGUAGES); ui_locales chooses among them
    discovery: { claim_types_supported: ['normal'], ui_locales_supported: ['en', 'de', 'fr'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // who may introspect or revoke which token: src/oidc/token-access.ts
      introspection: { enabled: true, allowedPolicy: (async (ctx: KoaContextWithOIDC, client: never, token: never) =>
        await introspectionAllowed(ctx, client, token) && await accountActive(token)) as never },
      revocation: { enabled: true, allowedPolicy: revocationAllowed as never },
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
        // resource servers (RFC 8707) get JWT access tokens (RFC 9068); userinfo tokens stay opaque
        getResourceServerInfo: resourceServerInfo(deps.resources),
      },
    },
    // the account pages' first-party grant, else the device flow's (which confirms on its own page)
    loadExistingGrant: async (ctx) => (await firstPartyGrant(ctx)) ?? device.loadExistingGrant(ctx),
    clientBasedCORS: (_ctx, origin, client) => isOriginOfRedirectUri(origin, client.redirectUris),
    async findAccount(_ctx: KoaContextWithOIDC, sub: string, found?: unknown) {
      const token = found as { extra?: { act?: unknown } } | undefined;
      const user = await accounts.findActive(sub); // no query when cached (refresh, userinfo)
      if (!user) return undefined;
      const workspace = deps.workspaces.forAccount(user.id);
      return {
        accountId: user.id,
        user, // read again by extraTokenClaims for a resource's claims (src/oidc/resource-token-claims.ts)
        workspace, // read again by extraTokenClaims for the same token response
        async claims(_use: string, scope: string) {
          // an impersonation token says who is acting (RFC 8693 §4.1), at userinfo too
          const act = token?.extra?.act ? { act: token.extra.act } : {};
          return { ...user.claims(), ...await workspace.claims(scope), ...act } as { sub: string };
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
  // the provider is a Koa app of its own: the same trust as ours (src/app.ts), so ctx.ip, the
  // protocol and the host read the same on both ways in
  provider.proxy = config.trustProxy;
  provider.maxIpsCount = config.proxyHops;
  provider.use(answerStoreFailures(deps.views)); // first: outermost, so it sees every failure around the handlers
  catchEscapedErrors(provider, deps.views); // next: no bare 500 from what escapes the handlers
  provider.use(settleRotations(adapters)); // a refresh token's consumption is final once its answer is ready
  provider.use(devicePolling(adapters, deps.redis && { client: deps.redis, prefix: config.redisPrefix }));
  issued.watch(provider);
  provider.use(confidentialClientHint()); // `gatehouse login` with a confidential client: say so, not "unknown client"
  provider.use(offlineAccessConsent(provider)); // offline_access asks consent, not prompt=consent
  const loopbackSecure = loopbackSecureCookies(config);
  if (loopbackSecure) provider.use(loopbackSecure);
  return provider;
}
