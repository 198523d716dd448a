// What Gatehouse knows about each kind of upstream provider: data the federation flow reads
// (src/federation/) and the registry's defaults. Every endpoint here can be overridden per provider
// (settings.endpoints, or the issuer): tests point the presets at local servers that speak the same
// documented APIs, and GitHub Enterprise or a self-hosted GitLab live at their own addresses.
// Icons are small inline SVGs drawn here (a letter on the brand's colour): nothing is fetched.

export const PROVIDER_KINDS = ['oidc', 'google', 'microsoft', 'github', 'gitlab'] as const;
export type ProviderKind = typeof PROVIDER_KINDS[number];

export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type TokenEndpointAuthMethod = typeof TOKEN_ENDPOINT_AUTH_METHODS[number];

/** Where an OAuth-only provider (no discovery) is reached. OpenID presets leave these to discovery. */
export interface ProviderEndpoints {
  authorization_endpoint?: string;
  token_endpoint?: string;
  /** the user API (GitHub: GET /user) or, for OpenID, an override of the discovered userinfo */
  userinfo_endpoint?: string;
  /** GitHub: GET /user/emails, for a verified primary address */
  emails_endpoint?: string;
}

export interface Preset {
  kind: ProviderKind;
  /** the button's default words after "Continue with" */
  displayName: string;
  /** an inline SVG (decorative: the button's text names the provider) */
  icon: string;
  /** OpenID Connect (discovery, ID token) or OAuth 2.0 with a user API */
  oidc: boolean;
  /** the issuer when the operator gives none; null: the operator must give one (or none exists) */
  defaultIssuer: string | null;
  defaultScopes: string[];
  /** OAuth-only presets: where to go. Overridable per provider in settings.endpoints. */
  endpoints?: ProviderEndpoints;
  defaultAuthMethod: TokenEndpointAuthMethod;
  /** Whether this kind's `email_verified` (or verified flag) can be trusted by default: see trustEmailByDefault */
  trustEmailVerified: boolean;
  /** one line for the docs and the console's kind picker */
  note: string;
}

const icon = (colour: string, letter: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">`
  + `<circle cx="12" cy="12" r="12" fill="${colour}"/>`
  + `<text x="12" y="16.5" text-anchor="middle" font-family="system-ui,sans-serif" font-size="13" font-weight="700" fill="#fff">${letter}</text></svg>`;

/** Entra ID's authority; the tenant (an id, a verified domain, or common/organizations/consumers) goes after it. */
export const MICROSOFT_AUTHORITY = 'https://login.microsoftonline.com';
/** The tenant values that admit users of more than one tenant: the ID token's iss names the user's own. */
export const MICROSOFT_MULTI_TENANT = ['common', 'organizations', 'consumers'] as const;
/** The tenant id of personal Microsoft accounts (what `consumers` signs in). */
export const MICROSOFT_CONSUMER_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const PRESETS: Readonly<Record<ProviderKind, Preset>> = {
  oidc: {
    kind: 'oidc', displayName: 'single sign-on', icon: icon('#4b5563', '⇢'), oidc: true, defaultIssuer: null,
    defaultScopes: ['openid', 'email', 'profile'], defaultAuthMethod: 'client_secret_basic', trustEmailVerified: false,
    note: 'Any OpenID Connect provider, found by its issuer (discovery): Okta, Auth0, Keycloak, another Gatehouse, …',
  },
  google: {
    kind: 'google', displayName: 'Google', icon: icon('#1a73e8', 'G'), oidc: true, defaultIssuer: 'https://accounts.google.com',
    defaultScopes: ['openid', 'email', 'profile'], defaultAuthMethod: 'client_secret_basic',
    // Google says email_verified only for addresses it has verified (or owns, for Gmail and Workspace)
    trustEmailVerified: true,
    note: 'Google accounts; hosted_domain restricts to Google Workspace domains (the hd claim).',
  },
  microsoft: {
    kind: 'microsoft', displayName: 'Microsoft', icon: icon('#0067b8', 'M'), oidc: true, defaultIssuer: `${MICROSOFT_AUTHORITY}/common/v2.0`,
    defaultScopes: ['openid', 'email', 'profile'], defaultAuthMethod: 'client_secret_post',
    // Entra's email claim is whatever a tenant admin typed: not proof that the user owns the mailbox
    trustEmailVerified: false,
    note: 'Microsoft Entra ID (work and school) and personal Microsoft accounts; tenant: an id, common, organizations or consumers.',
  },
  github: {
    kind: 'github', displayName: 'GitHub', icon: icon('#24292f', 'GH'), oidc: false, defaultIssuer: null,
    defaultScopes: ['read:user', 'user:email'], defaultAuthMethod: 'client_secret_post',
    endpoints: {
      authorization_endpoint: 'https://github.com/login/oauth/authorize',
      token_endpoint: 'https://github.com/login/oauth/access_token',
      userinfo_endpoint: 'https://api.github.com/user',
      emails_endpoint: 'https://api.github.com/user/emails',
    },
    // only the emails API's primary address with verified: true is ever used
    trustEmailVerified: true,
    note: 'GitHub (OAuth 2.0, not OpenID): the user API, and the emails API for a verified primary address.',
  },
  gitlab: {
    kind: 'gitlab', displayName: 'GitLab', icon: icon('#e24329', 'GL'), oidc: true, defaultIssuer: 'https://gitlab.com',
    defaultScopes: ['openid', 'email', 'profile'], defaultAuthMethod: 'client_secret_basic',
    // gitlab.com confirms addresses; a self-hosted instance may not (trustEmailByDefault)
    trustEmailVerified: true,
    note: 'GitLab.com or a self-hosted GitLab (its base URL is the issuer).',
  },
};

export const isProviderKind = (v: unknown): v is ProviderKind => typeof v === 'string' && (PROVIDER_KINDS as readonly string[]).includes(v);

/**
 * The default of trust_email_verified for a new provider: the preset's, except a self-hosted
 * GitLab, whose administrators may have turned email confirmation off.
 */
export function trustEmailByDefault(kind: ProviderKind, issuer: string | null | undefined): boolean {
  if (kind === 'gitlab') return (issuer ?? PRESETS.gitlab.defaultIssuer) === PRESETS.gitlab.defaultIssuer;
  return PRESETS[kind].trustEmailVerified;
}

/** Entra ID's issuer (and discovery base) for a tenant. */
export const microsoftIssuer = (tenant: string, authority = MICROSOFT_AUTHORITY) => `${authority}/${tenant}/v2.0`;

export const isMicrosoftMultiTenant = (tenant: string) => (MICROSOFT_MULTI_TENANT as readonly string[]).includes(tenant);

/**
 * Entra's multi-tenant discovery documents name the issuer `…/{tenantid}/v2.0`: the ID token's
 * `iss` carries the user's tenant. Returns that tenant id when `iss` has the template's shape, else
 * undefined. (Validating it against settings.tenants is the federation flow's job.)
 */
export function tenantFromIssuer(template: string, iss: string): string | undefined {
  const at = template.indexOf('{tenantid}');
  if (at < 0) return undefined;
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + '{tenantid}'.length);
  if (!iss.startsWith(prefix) || !iss.endsWith(suffix)) return undefined;
  const tenant = iss.slice(prefix.length, iss.length - suffix.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenant) ? tenant.toLowerCase() : undefined;
}
