// What a client registration may contain, checked once at the edge (CLI, clients file, admin API).
// RFC 9700 §4.1: exact redirect URIs, no fragments, no script-bearing schemes, plain http only
// for loopback (RFC 8252 §7.3).
import { z } from 'zod';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_ALIASES: Record<string, string> = { device_code: DEVICE_CODE_GRANT, token_exchange: TOKEN_EXCHANGE_GRANT };
export const SUPPORTED_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT] as const;
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try { url = new URL(value); } catch { return `"${value}" is not an absolute URI.`; }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `"${value}": the ${url.protocol} scheme is not allowed.`;
  if (value.includes('#')) return `"${value}": redirect URIs must not contain a fragment.`;
  if (url.username || url.password) return `"${value}": redirect URIs must not contain credentials.`;
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return `"${value}": plain http is only allowed for loopback addresses (127.0.0.1, [::1], localhost); use https.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !url.protocol.slice(0, -1).includes('.')) {
    return `"${value}": custom schemes must be reverse-domain names such as com.example.app:/callback (RFC 8252).`;
  }
  return undefined;
}

/** RFC 8707 §2: an absolute URI without a fragment; plain http only for loopback. */
export function resourceIndicatorProblem(value: string): string | undefined {
  let url: URL;
  try { url = new URL(value); } catch { return `"${value}" is not an absolute URI.`; }
  if (value.includes('#')) return `"${value}": a resource indicator must not contain a fragment.`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `"${value}": a resource indicator must be an https URI (plain http only for loopback addresses).`;
}

const redirectUri = z.string().superRefine((v, ctx) => {
  const problem = redirectUriProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An app's page or image shown on the hosted pages: https only, no credentials. */
const httpsUri = (field: string) => z.string().trim().max(2000).refine((v) => {
  try { const u = new URL(v); return u.protocol === 'https:' && !u.username && !u.password; } catch { return false; }
}, `${field} must be an absolute https:// URL`);

const grantType = z.string().transform((g) => GRANT_ALIASES[g] ?? g).pipe(z.enum(SUPPORTED_GRANTS, {
  message: `grant types must be among authorization_code, refresh_token, client_credentials, device_code, token_exchange`,
}));

const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

export const clientInputSchema = z.object({
  client_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._~-]{2,127}$/, 'client_id must be 3–128 characters of A–Z, a–z, 0–9, ".", "_", "~", "-", starting with a letter or digit (so a command line never reads it as an option)').optional(),
  client_secret: z.string().min(32, 'client_secret must be at least 32 characters').optional(),
  name: z.string().trim().min(1, 'name is required').max(200),
  redirect_uris: z.array(redirectUri).default([]),
  post_logout_redirect_uris: z.array(redirectUri).default([]),
  grant_types: z.array(grantType).min(1).default(['authorization_code', 'refresh_token']),
  scope: z.string().trim().default('openid profile email offline_access')
    .refine((s) => s.split(/\s+/).every((t) => scopeToken.test(t)), 'scope must be space-separated scope tokens'),
  public: z.boolean().default(false),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256']).default('RS256'),
  /** Sign-in to this client needs a second factor (users without one enrol on the way). */
  require_mfa: z.boolean().default(false),
  /** Sign-in to this client needs a verified email (a code is mailed on the way). */
  require_email_verification: z.boolean().default(false),
  /**
   * This client's sign-in page offers a password (and sign-up with one). false: only the upstream
   * providers it offers (src/upstream/) — e.g. an app whose users all come from the company's IdP.
   */
  password_sign_in: z.boolean().default(true),
  /**
   * Who may create an account on this client's sign-in page: `open`, `invitation` (only from a
   * workspace invitation) or `closed`. Unset: GATEHOUSE_SIGNUP decides. Overrides it either way.
   */
  signup_policy: z.enum(['open', 'invitation', 'closed']).optional(),
  /** Shown next to "to continue to <app>" on the sign-in and consent pages (https only). */
  logo_uri: httpsUri('logo_uri').optional(),
  /** Linked from the sign-in and consent pages (https only). */
  policy_uri: httpsUri('policy_uri').optional(),
  tos_uri: httpsUri('tos_uri').optional(),
  /**
   * This client is the resource server for these resource indicators (RFC 8707 audiences): it may
   * introspect tokens issued for them (src/oidc/token-access.ts). Absolute https (or loopback http) URIs.
   */
  resource_server_for: z.array(z.string().superRefine((v, ctx) => {
    const problem = resourceIndicatorProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })).default([]),
}).superRefine((c, ctx) => {
  const interactive = c.grant_types.includes('authorization_code');
  if (interactive && c.redirect_uris.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['redirect_uris'], message: 'the authorization_code grant needs at least one redirect URI' });
  }
  if (c.public && (c.grant_types.includes('client_credentials') || c.grant_types.includes(TOKEN_EXCHANGE_GRANT))) {
    ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'a public client cannot use client_credentials or token_exchange' });
  }
  if (c.public && c.client_secret) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'a public client has no secret' });
  }
  if (c.public && c.resource_server_for.length) {
    ctx.addIssue({ code: 'custom', path: ['resource_server_for'], message: 'a resource server must be a confidential client (it authenticates to introspect)' });
  }
  if (c.grant_types.includes('refresh_token') && !interactive && !c.grant_types.includes(DEVICE_CODE_GRANT)) {
    ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'refresh_token needs authorization_code or device_code' });
  }
});

export type ClientInput = z.input<typeof clientInputSchema>;
export type ValidClientInput = z.output<typeof clientInputSchema>;

/** One sentence from the first problem, for CLIs and API errors. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
