// What an upstream provider's registration may contain, checked once at the edge (CLI, providers
// file, admin API, console). One flat shape in and out: what GET returns, PATCH accepts.
import { z } from 'zod';
import {
  PROVIDER_KINDS, TOKEN_ENDPOINT_AUTH_METHODS, PRESETS, MICROSOFT_MULTI_TENANT,
  type ProviderKind, type TokenEndpointAuthMethod,
} from './presets.ts';

/** As the migration's check: lower-case letters, digits and single inner hyphens; 2–63 characters. */
export const PROVIDER_NAME = /^[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){1,62}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3
/** A claim, or a dotted path into nested claims (`groups`, `org.id`, `https://example.com/roles`). */
const CLAIM_PATH = /^[A-Za-z0-9_:/.-]{1,200}$/;
/** A workspace slug, or a slug template with `{value}` (the claim's value, made a slug by the sync). */
const WORKSPACE_REF = /^([a-z0-9-]|\{value\})+$/;
const ICON_PATH = /^\/assets\/(?!.*\.\.)[A-Za-z0-9._/-]{1,200}\.(svg|png)$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
export const DEFAULT_BUTTON_ORDER = 100;
/** Names a path already uses. */
const RESERVED_NAMES = new Set(['new']);
const MAX_LIST = 100;

const domain = z.string().trim().toLowerCase().regex(DOMAIN, 'a domain such as example.com');
const domains = z.array(domain).max(MAX_LIST);
const url = z.string().trim().max(2000);

export const ORG_SYNC_ROLES = ['owner', 'admin', 'member'] as const;

/**
 * One organisation-sync rule (applied on every upstream sign-in by the federation flow): for each
 * value of `claim` (a string or an array of strings) that equals `value` — or every value when
 * `value` is absent — the user is a member of `workspace` with `role`. `workspace` is a slug, or a
 * template in which `{value}` stands for the claim's value. `create_workspace`: create a missing
 * workspace (else the rule is skipped for it).
 */
export const orgSyncRuleSchema = z.object({
  claim: z.string().trim().regex(CLAIM_PATH, 'claim must be a claim name or a dotted path such as org.id'),
  value: z.string().min(1).max(500).optional(),
  workspace: z.string().trim().regex(WORKSPACE_REF, 'workspace must be a workspace slug, or a template such as team-{value}').max(63),
  role: z.enum(ORG_SYNC_ROLES, { message: 'role must be owner, admin or member' }).default('member'),
  create_workspace: z.boolean().default(false),
}).strict();
export type OrgSyncRule = z.output<typeof orgSyncRuleSchema>;

const scopesField = z.union([z.string(), z.array(z.string())])
  .transform((s) => (Array.isArray(s) ? s : s.split(/[\s,]+/)).map((t) => t.trim()).filter(Boolean))
  .refine((s) => s.length > 0 && s.length <= 50 && s.every((t) => SCOPE_TOKEN.test(t)), 'scopes must be one or more scope tokens');

const endpointsSchema = z.object({
  authorization_endpoint: url.optional(),
  token_endpoint: url.optional(),
  userinfo_endpoint: url.optional(),
  emails_endpoint: url.optional(),
}).strict();

/** Everything but the columns: stored in upstream_providers.settings. */
const settingsFields = {
  scopes: scopesField.optional(),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS, { message: `token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}` }).optional(),
  /** just-in-time provisioning: a first upstream sign-in creates an account */
  allow_signup: z.boolean().optional(),
  /** only emails at these domains may sign in through the provider (empty: any) */
  allowed_email_domains: domains.optional(),
  /** the upstream's email_verified counts as verified here (needed for automatic linking) */
  trust_email_verified: z.boolean().optional(),
  /** the upstream's amr/acr showing a second factor satisfies a client's require_mfa */
  trust_mfa: z.boolean().optional(),
  /** the apps (client ids) that offer this provider; empty: every app */
  client_ids: z.array(z.string().regex(CLIENT_ID, 'client_ids are client ids')).max(MAX_LIST).optional(),
  /** signing out of Gatehouse also signs out upstream (RP-initiated logout there) */
  logout_upstream: z.boolean().optional(),
  /** home-realm discovery: an email at one of these domains goes straight to this provider */
  home_realm_domains: domains.optional(),
  /** Microsoft: the tenant id, a verified domain, or common / organizations / consumers */
  tenant: z.string().trim().toLowerCase().refine((t) => UUID.test(t) || DOMAIN.test(t) || (MICROSOFT_MULTI_TENANT as readonly string[]).includes(t),
    'tenant must be a tenant id, a domain, or common, organizations or consumers').optional(),
  /** Microsoft multi-tenant: the only tenant ids admitted (the ID token's tid/iss); empty: any */
  tenants: z.array(z.string().trim().toLowerCase().regex(UUID, 'tenants are tenant ids (GUIDs)')).max(MAX_LIST).optional(),
  /** Google: only accounts of this Workspace domain (hd) */
  hosted_domain: domain.nullable().optional(),
  org_sync: z.array(orgSyncRuleSchema).max(MAX_LIST).optional(),
  /** the button's place on the sign-in page: lower first, then by display name */
  order: z.number().int().min(0).max(10_000).optional(),
  /** a different icon: an image under /assets (nothing is fetched from elsewhere) */
  icon: z.string().regex(ICON_PATH, 'icon must be an .svg or .png path under /assets/').nullable().optional(),
  /** overrides of the preset's or discovery's endpoints (GitHub Enterprise, local test servers) */
  endpoints: endpointsSchema.optional(),
};

const registration = {
  display_name: z.string().trim().min(1, 'display_name must not be empty').max(100).optional(),
  issuer: url.nullable().optional(),
  client_id: z.string({ error: 'client_id is required: the client id the provider gave Gatehouse' }).trim().min(1, 'client_id is required').max(500),
  /** write-only: never returned after creation */
  client_secret: z.string().min(1, 'client_secret must not be empty').max(4000).optional(),
  enabled: z.boolean().optional(),
  ...settingsFields,
};

export const providerInputSchema = z.object({
  name: z.string().trim().regex(PROVIDER_NAME, 'name must be 2–63 lower-case letters, digits and inner hyphens (it is part of the callback URL)')
    .refine((n) => !RESERVED_NAMES.has(n), 'that name is reserved (the console\'s /admin/providers/new): choose another'),
  kind: z.enum(PROVIDER_KINDS, { message: `kind must be one of ${PROVIDER_KINDS.join(', ')}` }).default('oidc'),
  ...registration,
}).strict();
export type ProviderInput = z.input<typeof providerInputSchema>;

/** A change: any field but the name (in the callback URL) and the kind; null clears an optional one. */
export const providerPatchSchema = z.object({
  ...Object.fromEntries(Object.entries(registration).map(([k, v]) => [k, (v instanceof z.ZodOptional ? v.unwrap() as z.ZodType : v).nullable().optional()])) as {
    [K in keyof typeof registration]: z.ZodOptional<z.ZodNullable<typeof registration[K] extends z.ZodOptional<infer T> ? T : typeof registration[K]>>
  },
  client_id: registration.client_id.optional(),
  client_secret: registration.client_secret,
  /** private_key_jwt: a new key pair (register the new public key upstream) */
  rotate_key: z.boolean().optional(),
}).strict();
export type ProviderPatchInput = z.input<typeof providerPatchSchema>;

/** The settings column, every default filled in. */
export interface ProviderSettings {
  scopes: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  allow_signup: boolean;
  allowed_email_domains: string[];
  trust_email_verified: boolean;
  trust_mfa: boolean;
  client_ids: string[];
  logout_upstream: boolean;
  home_realm_domains: string[];
  tenant: string | null;
  tenants: string[];
  hosted_domain: string | null;
  org_sync: OrgSyncRule[];
  order: number;
  icon: string | null;
  endpoints: z.output<typeof endpointsSchema>;
}

/** One sentence from the first problem, for CLIs and API errors. */
export function describeProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/**
 * An issuer or endpoint URL: https; plain http only for loopback hosts outside production (tests and
 * a developer's laptop); no credentials, query or fragment in an issuer.
 */
export function upstreamUrlProblem(field: string, value: string, env: 'development' | 'production' | 'test', issuer = false): string | undefined {
  let u: URL;
  try { u = new URL(value); } catch { return `${field} must be an absolute URL`; }
  if (u.username || u.password) return `${field} must not contain credentials`;
  if (value.includes('#')) return `${field} must not contain a fragment`;
  if (issuer && u.search) return `${field} must not contain a query`;
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && env !== 'production' && LOOPBACK_HOSTS.has(u.hostname)) return undefined;
  return env === 'production'
    ? `${field} must be an https URL`
    : `${field} must be an https URL (plain http only for localhost, 127.0.0.1 or [::1] outside production)`;
}

/** Whether an email's domain is allowed by the provider's allowed_email_domains (empty: all). */
export function emailDomainAllowed(settings: Pick<ProviderSettings, 'allowed_email_domains'>, email: string): boolean {
  if (settings.allowed_email_domains.length === 0) return true;
  const at = email.lastIndexOf('@');
  if (at < 0) return false;
  return settings.allowed_email_domains.includes(email.slice(at + 1).toLowerCase());
}

export const defaultDisplayName = (kind: ProviderKind, name: string) => (kind === 'oidc' ? name : PRESETS[kind].displayName);
