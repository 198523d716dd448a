// What a resource (an API, RFC 8707) may be, checked once at the edge (CLI, admin API, console):
// its audience, the user claims it may ask for, its own scopes and its token lifetime.
import { z } from 'zod';

/**
 * The user claims an API may ask for, each with the scope the user must have granted for it to
 * appear in the API's JWT access tokens — the same pairs as the claim contract of
 * src/oidc/claims.ts SCOPE_CLAIMS (tests/unit/resource-schema.test.ts keeps them in step). The
 * active workspace's flat claims need no asking: every resource gets them with `workspace`.
 */
export const RESOURCE_CLAIMS = {
  email: 'email',
  email_verified: 'email',
  name: 'profile',
  given_name: 'profile',
  family_name: 'profile',
  picture: 'profile',
  locale: 'profile',
  roles: 'roles',
  workspaces: 'workspaces',
} as const;
export type ResourceClaim = keyof typeof RESOURCE_CLAIMS;
export const RESOURCE_CLAIM_NAMES = Object.keys(RESOURCE_CLAIMS) as ResourceClaim[];

/** Every resource accepts `workspace`: its tokens carry the active workspace as they always have. */
export const WORKSPACE_SCOPE = 'workspace';

/**
 * Scope names with a meaning of their own at Gatehouse (OpenID, claim and write scopes): an API
 * cannot take one as its own scope, or a grant of it would mean two things.
 */
export const RESERVED_SCOPES = new Set([
  'openid', 'profile', 'email', 'roles', 'workspace', 'workspaces', 'offline_access', 'profile:write', 'workspace:manage', 'admin',
]);

/** An API scope: a letter or digit, then letters, digits and . _ : / - (RFC 6749 §3.3 allows more; these read well). */
const API_SCOPE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const MAX_SCOPES = 50;

/** Access-token lifetime bounds, seconds: a minute (clock skew makes less useless) to GATEHOUSE_ACCESS_TOKEN_TTL's own ceiling. */
export const MIN_RESOURCE_TTL = 60;
export const MAX_RESOURCE_TTL = 86_400;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * RFC 8707 §2: an absolute URI without a fragment. https; plain http only for a loopback host and
 * only outside production (an API on the developer's machine).
 */
export function audienceProblem(value: string, env: 'development' | 'production' | 'test'): string | undefined {
  if (value.length > 2000) return 'the audience is longer than 2000 characters.';
  if (value.includes('#')) return `"${value}": an audience must not contain a fragment (#).`;
  let url: URL;
  try { url = new URL(value); } catch { return `"${value}" is not an absolute URI (e.g. https://api.example.com).`; }
  if (url.username || url.password) return `"${value}": an audience must not contain credentials.`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return env === 'production' ? `"${value}": plain http is not allowed in production; use https.` : undefined;
  }
  return `"${value}": an audience must be an https URI (plain http only for localhost outside production).`;
}

/** A list given as an array or as one string of names separated by spaces or commas. */
const nameList = z.union([z.array(z.string()), z.string()])
  .transform((v) => [...new Set((Array.isArray(v) ? v : v.split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean))]);

const claimList = nameList.pipe(z.array(z.enum(RESOURCE_CLAIM_NAMES as [ResourceClaim, ...ResourceClaim[]], {
  message: `claims must be among ${RESOURCE_CLAIM_NAMES.join(', ')}`,
})));

const scopeList = nameList.pipe(z.array(z.string()
  .regex(API_SCOPE, 'a scope is 1–64 characters: a letter or digit, then letters, digits and . _ : / -')
  .superRefine((s, ctx) => {
    if (RESERVED_SCOPES.has(s)) ctx.addIssue({ code: 'custom', message: `"${s}" is a Gatehouse scope with its own meaning; name the API's scopes differently (e.g. orders:read)` });
  }))
  .max(MAX_SCOPES, `at most ${MAX_SCOPES} scopes`));

const ttl = z.coerce.number({ message: 'ttl must be a whole number of seconds' }).int('ttl must be a whole number of seconds')
  .min(MIN_RESOURCE_TTL, `ttl must be at least ${MIN_RESOURCE_TTL} seconds`).max(MAX_RESOURCE_TTL, `ttl must be at most ${MAX_RESOURCE_TTL} seconds`);

const fields = {
  name: z.string().trim().min(1, 'name must not be empty').max(200, 'name is at most 200 characters'),
  claims: claimList,
  scopes: scopeList,
  /** seconds; null: GATEHOUSE_ACCESS_TOKEN_TTL */
  ttl: ttl.nullable(),
  enabled: z.boolean(),
};

export const resourceCreateSchema = z.object({
  audience: z.string().trim().min(1, 'audience is required'),
  ...fields,
}).partial({ name: true, claims: true, scopes: true, ttl: true, enabled: true }).strict();

/** An update: what is not given stays; the audience never changes (tokens and APIs name it). */
export const resourcePatchSchema = z.object(fields).partial().strict();

export type ResourceCreateInput = z.input<typeof resourceCreateSchema>;
export type ResourcePatchInput = z.input<typeof resourcePatchSchema>;

/** One sentence from the first problem, for the CLI and API errors. */
export function describeResourceError(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  const path = issue.path.filter((p) => typeof p === 'string').join('.');
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

/** The scope string oidc-provider knows the resource by: its API scopes, `workspace`, and the scopes behind its claims. */
export function resourceServerScopes(r: { scopes: readonly string[]; claims: readonly ResourceClaim[] }): string[] {
  return [...new Set([...r.scopes, WORKSPACE_SCOPE, ...r.claims.map((c) => RESOURCE_CLAIMS[c])])];
}
