// Talking to an upstream provider, with openid-client (never by hand): discovery (cached), the
// authorization URL (code flow, PKCE S256, state, nonce), and the callback (RFC 9207 `iss` where
// the upstream advertises it, the ID token's signature, iss, aud, exp and nonce). GitHub is OAuth
// 2.0 only: the code is exchanged the same way, then the user API and the emails API say who it is.
// Every call has a timeout and is counted by provider and outcome (src/observability/metrics.ts).
import * as client from 'openid-client';
import { importJWK, type JWK } from 'jose';
import { observeUpstreamCall } from '../observability/metrics.ts';
import { tenantFromIssuer } from '../upstream/presets.ts';
import type { FlowProvider } from './flow-provider.ts';

/** Seconds any one upstream request may take before the sign-in is given up as "upstream unavailable". */
export const UPSTREAM_TIMEOUT_SECONDS = 10;
/** How long a discovered configuration is reused; a failed discovery is not cached. */
const DISCOVERY_CACHE_MS = 60 * 60 * 1000;

/** Who the upstream says signed in, in our words. */
export interface UpstreamProfile {
  subject: string;
  email?: string;
  /** as the upstream said it; whether it is believed is the provider's trust_email_verified */
  emailVerified: boolean;
  name?: string;
  givenName?: string;
  familyName?: string;
  picture?: string;
  locale?: string;
  amr: string[];
  acr?: string;
  /** every claim the upstream gave (ID token, userinfo), for organisation sync */
  claims: Record<string, unknown>;
  /** kept for logout_upstream only */
  idToken?: string;
}

/** A failure the user is told about; `reason` goes in the audit event and the metrics. */
export class UpstreamFailure extends Error {
  readonly reason: FailureReason;
  readonly upstreamError?: string;
  constructor(reason: FailureReason, message: string, upstreamError?: string) {
    super(message);
    this.reason = reason;
    this.upstreamError = upstreamError;
  }
}
export type FailureReason =
  | 'cancelled' | 'upstream_error' | 'state_mismatch' | 'iss_mismatch' | 'bad_token' | 'unavailable'
  | 'no_verified_email' | 'no_email' | 'email_not_trusted' | 'domain_not_allowed' | 'tenant_not_allowed' | 'hosted_domain'
  | 'signup_not_allowed' | 'disabled' | 'provider_disabled' | 'expired' | 'misconfigured';

export interface AuthorizationStart { url: string; state: string; nonce: string; codeVerifier: string }

export interface UpstreamClientDeps {
  /** where the upstream sends the browser back: `{issuer}/providers/{name}/callback` */
  callbackUrl(name: string): string;
  /** injectable for tests that speak to local stand-ins in-process; the global fetch otherwise */
  fetch?: typeof fetch;
}

const isLoopback = (url: string) => {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function createUpstreamClient(deps: UpstreamClientDeps) {
  const cache = new Map<string, { at: number; key: string; config: client.Configuration }>();

  /** fetch with the timeout and the metrics; `step` labels what was asked (discovery, token, user …). */
  function meteredFetch(provider: string, step: string): client.CustomFetch {
    const base = deps.fetch ?? fetch;
    return async (url, options) => {
      const started = performance.now();
      try {
        const res = await base(url, { ...options, signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_SECONDS * 1000) } as RequestInit);
        observeUpstreamCall(provider, step, res.ok ? 'ok' : `http_${res.status}`, (performance.now() - started) / 1000);
        return res;
      } catch (err) {
        observeUpstreamCall(provider, step, 'unreachable', (performance.now() - started) / 1000);
        throw err;
      }
    };
  }

  async function clientAuth(p: FlowProvider): Promise<client.ClientAuth> {
    switch (p.authMethod) {
      case 'private_key_jwt': {
        if (!p.privateKey) throw new UpstreamFailure('misconfigured', 'The provider has no private key for private_key_jwt.');
        const jwk = p.privateKey as JWK;
        const key = await importJWK(jwk, jwk.alg ?? 'RS256');
        return client.PrivateKeyJwt({ key: key as CryptoKey, kid: jwk.kid });
      }
      case 'client_secret_post': return client.ClientSecretPost(p.clientSecret ?? '');
      default: return client.ClientSecretBasic(p.clientSecret ?? '');
    }
  }

  async function configFor(p: FlowProvider): Promise<client.Configuration> {
    // a change of the provider's settings is a new configuration
    const key = JSON.stringify([p.kind, p.issuer, p.clientId, p.authMethod, p.endpoints, p.updatedAt]);
    const hit = cache.get(p.name);
    if (hit && hit.key === key && Date.now() - hit.at < DISCOVERY_CACHE_MS) return hit.config;
    const auth = await clientAuth(p);
    let config: client.Configuration;
    if (!p.oidc) {
      // OAuth 2.0 only (GitHub): no discovery, the preset's (or the operator's) endpoints
      const { authorization_endpoint, token_endpoint } = p.endpoints;
      if (!authorization_endpoint || !token_endpoint) throw new UpstreamFailure('misconfigured', 'The provider has no endpoints.');
      config = new client.Configuration({ issuer: new URL(authorization_endpoint).origin, authorization_endpoint, token_endpoint }, p.clientId, {}, auth);
      if (isLoopback(authorization_endpoint)) client.allowInsecureRequests(config);
    } else {
      if (!p.issuer) throw new UpstreamFailure('misconfigured', 'The provider has no issuer.');
      const issuer = new URL(p.issuer);
      const options: client.DiscoveryRequestOptions = {
        [client.customFetch]: meteredFetch(p.name, 'discovery'),
        timeout: UPSTREAM_TIMEOUT_SECONDS,
        ...(isLoopback(p.issuer) ? { execute: [client.allowInsecureRequests] } : {}),
      };
      config = await client.discovery(issuer, p.clientId, {}, auth, options);
    }
    config.timeout = UPSTREAM_TIMEOUT_SECONDS;
    config[client.customFetch] = meteredFetch(p.name, 'call');
    cache.set(p.name, { at: Date.now(), key, config });
    return config;
  }

  /** Discovery failures (down, slow, not an OpenID provider) read as "unavailable" to the user. */
  async function configOrUnavailable(p: FlowProvider): Promise<client.Configuration> {
    try { return await configFor(p); } catch (err) {
      if (err instanceof UpstreamFailure) throw err;
      throw new UpstreamFailure('unavailable', `discovery failed: ${(err as Error).message}`);
    }
  }

  return {
    async start(p: FlowProvider): Promise<AuthorizationStart> {
      const config = await configOrUnavailable(p);
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const params: Record<string, string> = {
        redirect_uri: deps.callbackUrl(p.name),
        scope: p.scopes.join(' '),
        state,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      };
      if (p.oidc) params.nonce = nonce;
      // Google: only accounts of this Workspace domain are offered (checked again on the way back)
      if (p.kind === 'google' && p.hostedDomain) params.hd = p.hostedDomain;
      if (p.kind === 'google') params.prompt = 'select_account';
      return { url: client.buildAuthorizationUrl(config, params).href, state, nonce, codeVerifier };
    },

    /** Exchanges the callback for a profile; every refusal is an UpstreamFailure with its reason. */
    async finish(p: FlowProvider, callback: URL, checks: { state: string; nonce: string; codeVerifier: string }): Promise<UpstreamProfile> {
      const config = await configOrUnavailable(p);
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          ...(p.oidc ? { expectedNonce: checks.nonce, idTokenExpected: true } : {}),
        });
      } catch (err) {
        throw classify(err);
      }
      if (!p.oidc) return githubProfile(p, config, tokens.access_token);
      const idClaims = tokens.claims()!;
      let claims: Record<string, unknown> = { ...idClaims };
      checkTenant(p, config, idClaims);
      // what the ID token leaves out (many providers keep email and profile for userinfo)
      if (config.serverMetadata().userinfo_endpoint && (!str(idClaims.email) || !str(idClaims.name))) {
        try {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          claims = { ...info, ...idClaims };
        } catch (err) { throw classify(err); }
      }
      if (p.kind === 'google' && p.hostedDomain && claims.hd !== p.hostedDomain) {
        throw new UpstreamFailure('hosted_domain', `hd ${String(claims.hd ?? 'none')} is not ${p.hostedDomain}`);
      }
      return {
        subject: idClaims.sub,
        email: str(claims.email),
        emailVerified: claims.email_verified === true || claims.email_verified === 'true',
        name: str(claims.name), givenName: str(claims.given_name), familyName: str(claims.family_name),
        picture: str(claims.picture), locale: str(claims.locale),
        amr: Array.isArray(idClaims.amr) ? idClaims.amr.filter((v): v is string => typeof v === 'string') : [],
        acr: str(idClaims.acr),
        claims,
        idToken: tokens.id_token,
      };
    },

    /** The upstream's end_session_endpoint, if it has one (for logout_upstream). */
    async endSessionUrl(p: FlowProvider, idTokenHint: string | undefined, postLogoutRedirectUri?: string, state?: string): Promise<string | undefined> {
      if (!p.oidc) return undefined;
      const config = await configFor(p).catch(() => undefined);
      if (!config?.serverMetadata().end_session_endpoint) return undefined;
      const params: Record<string, string> = { client_id: p.clientId };
      if (idTokenHint) params.id_token_hint = idTokenHint;
      if (postLogoutRedirectUri) params.post_logout_redirect_uri = postLogoutRedirectUri;
      if (state) params.state = state;
      return client.buildEndSessionUrl(config, params).href;
    },

    forget: (name: string) => { cache.delete(name); },
  };

  /**
   * Entra ID multi-tenant (`common`, `organizations`): the discovered issuer is a template with
   * {tenantid}; openid-client compares the ID token's iss with the template filled with its tid
   * (for login.microsoftonline.com). Here: the tid must be the one iss names, and one the operator
   * allows (settings.tenants), whatever the authority.
   */
  function checkTenant(p: FlowProvider, config: client.Configuration, claims: Record<string, unknown>) {
    if (p.kind !== 'microsoft') return;
    const template = config.serverMetadata().issuer;
    const tid = str(claims.tid)?.toLowerCase();
    if (template.includes('{tenantid}')) {
      const fromIss = tenantFromIssuer(template, String(claims.iss));
      if (!fromIss || fromIss !== tid) throw new UpstreamFailure('iss_mismatch', 'the ID token\'s iss does not name its tid');
    }
    if (p.tenants.length > 0 && (!tid || !p.tenants.includes(tid))) {
      throw new UpstreamFailure('tenant_not_allowed', `tenant ${tid ?? 'none'} is not allowed`);
    }
  }

  async function githubProfile(p: FlowProvider, config: client.Configuration, accessToken: string): Promise<UpstreamProfile> {
    const get = async (url: string | undefined, step: string): Promise<unknown> => {
      if (!url) throw new UpstreamFailure('misconfigured', `no ${step} endpoint`);
      let res: Response;
      try {
        res = await meteredFetch(p.name, step)(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${accessToken}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'Gatehouse' },
        } as never);
      } catch (err) { throw classify(err); }
      if (!res.ok) throw new UpstreamFailure('upstream_error', `${step} answered ${res.status}`);
      return res.json();
    };
    void config;
    const user = await get(p.endpoints.userinfo_endpoint, 'user') as Record<string, unknown>;
    const emails = await get(p.endpoints.emails_endpoint, 'emails') as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>;
    // only the verified primary address: an unverified one (or a secondary) is never used to match
    const primary = Array.isArray(emails) ? emails.find((e) => e.primary === true && e.verified === true && typeof e.email === 'string') : undefined;
    if (!primary) throw new UpstreamFailure('no_verified_email', 'no verified primary email');
    const id = user.id;
    if (typeof id !== 'number' && typeof id !== 'string') throw new UpstreamFailure('upstream_error', 'the user API gave no id');
    const name = str(user.name) ?? str(user.login);
    return {
      subject: String(id), email: String(primary.email), emailVerified: true,
      name, picture: str(user.avatar_url), amr: [],
      claims: { ...user, sub: String(id), email: primary.email, email_verified: true },
    };
  }
}
export type UpstreamClient = ReturnType<typeof createUpstreamClient>;

/** openid-client's errors, in the reasons the user and the audit trail see. */
export function classify(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof client.AuthorizationResponseError) {
    const code = err.error;
    return new UpstreamFailure(code === 'access_denied' ? 'cancelled' : 'upstream_error', `upstream said ${code}`, code);
  }
  const e = err as { name?: string; message?: string; code?: string; cause?: { message?: string; name?: string; code?: string } };
  const inner = `${e.cause?.message ?? ''} ${e.message ?? ''}`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'TimeoutError' || e.name === 'TypeError' && /fetch failed/.test(e.message ?? '')) {
    return new UpstreamFailure('unavailable', inner.trim());
  }
  if (/"state"/.test(inner)) return new UpstreamFailure('state_mismatch', inner.trim());
  if (/"iss"/.test(inner)) return new UpstreamFailure('iss_mismatch', inner.trim());
  if (err instanceof client.ResponseBodyError) return new UpstreamFailure('upstream_error', `token endpoint said ${err.error}`, err.error);
  if (/RESPONSE_IS_NOT_CONFORM|RESPONSE_IS_NOT_JSON/.test(String(e.code))) return new UpstreamFailure('unavailable', inner.trim());
  return new UpstreamFailure('bad_token', inner.trim());
}


