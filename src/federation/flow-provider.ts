// A registered upstream provider as the sign-in flow reads it: the registry's row and settings
// (src/upstream/), the preset's defaults filled in, the secrets decrypted. Built per request from
// the registry, so a change made by the operator applies to the next sign-in.
import { PRESETS, microsoftIssuer, isProviderKind, type ProviderEndpoints, type ProviderKind, type TokenEndpointAuthMethod } from '../upstream/presets.ts';
import type { ProviderConfig } from '../upstream/provider.service.ts';

export interface FlowProvider {
  name: string;
  displayName: string;
  kind: ProviderKind;
  /** OpenID Connect (discovery, ID token) or OAuth 2.0 with a user API (GitHub) */
  oidc: boolean;
  issuer?: string;
  clientId: string;
  clientSecret?: string;
  privateKey?: Record<string, unknown>;
  authMethod: TokenEndpointAuthMethod;
  scopes: string[];
  endpoints: ProviderEndpoints;
  enabled: boolean;
  allowSignup: boolean;
  allowedEmailDomains: string[];
  trustEmailVerified: boolean;
  trustMfa: boolean;
  clientIds: string[];
  logoutUpstream: boolean;
  homeRealmDomains: string[];
  tenants: string[];
  hostedDomain?: string;
  /** the row's settings, as organisation sync reads them */
  settings: Record<string, unknown>;
  updatedAt: string;
}

/** The registry's provider (src/upstream/provider.service.ts `get`) as the flow reads it. */
export function toFlowProvider(c: ProviderConfig): FlowProvider {
  const kind: ProviderKind = isProviderKind(c.kind) ? c.kind : 'oidc';
  const preset = PRESETS[kind];
  const issuer = c.issuer ?? (kind === 'microsoft' ? microsoftIssuer(c.tenant ?? 'common') : preset.defaultIssuer) ?? undefined;
  return {
    name: c.name,
    displayName: c.display_name,
    kind,
    oidc: preset.oidc,
    issuer,
    clientId: c.client_id,
    clientSecret: c.client_secret,
    privateKey: c.private_jwk as Record<string, unknown> | undefined,
    authMethod: c.token_endpoint_auth_method ?? preset.defaultAuthMethod,
    scopes: c.scopes?.length ? c.scopes : preset.defaultScopes,
    endpoints: c.endpoints,
    enabled: c.enabled,
    allowSignup: c.allow_signup,
    allowedEmailDomains: (c.allowed_email_domains ?? []).map((d) => d.toLowerCase()),
    trustEmailVerified: c.trust_email_verified,
    trustMfa: c.trust_mfa,
    clientIds: c.client_ids ?? [],
    logoutUpstream: c.logout_upstream,
    homeRealmDomains: c.home_realm_domains ?? [],
    tenants: (c.tenants ?? []).map((t) => t.toLowerCase()),
    hostedDomain: c.hosted_domain ?? undefined,
    settings: { org_sync: c.org_sync },
    updatedAt: c.updated_at,
  };
}

/** The domain of an address, lower-cased ('' when there is none). */
export const emailDomain = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** Whether this provider lets this email sign in (allowed_email_domains; empty: any). */
export const domainAllowed = (p: FlowProvider, email: string | undefined) =>
  p.allowedEmailDomains.length === 0 || (!!email && p.allowedEmailDomains.includes(emailDomain(email)));

/** Whether the app of this authorization request offers this provider (client_ids; empty: every app). */
export const offeredTo = (p: FlowProvider, clientId: string) => p.enabled && (p.clientIds.length === 0 || p.clientIds.includes(clientId));
