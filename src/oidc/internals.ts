// The one module that relies on oidc-provider behaviour its documentation does not promise (as
// Logto keeps oidc-provider-internals.ts): what its code happens to do, the names of its internal
// entities and errors, the HTML it writes, the defaults it applies. Everything else in src/oidc/
// uses the library's documented surface only — configuration hooks, provider.use,
// interactionDetails/interactionResult, the adapter contract, the models as the in-repo example
// uses them (Client.find, Grant), and the ctx.oidc properties the documentation names (params,
// client, session, route, result, provider, promptPending …) — and calls the functions below for
// the rest. An oidc-provider upgrade is checked here, function by function: each says why we rely
// on it and which test fails if the new version breaks it.
//
// Checked against oidc-provider 9.13.3 (see CHECKED_AGAINST).
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { CookiesSetOptions, KoaContextWithOIDC, Session } from 'oidc-provider';

/** The oidc-provider version every reliance below was read against (package-lock.json). */
export const CHECKED_AGAINST = '9.13.3';

// ─── Routes ──────────────────────────────────────────────────────────────────────────────────────

/**
 * The provider's route paths: the library's defaults (lib/helpers/defaults.js `routes`), which
 * src/oidc/provider.ts hands to the configuration as they are, so that this table and the routes
 * served cannot drift. Every path Gatehouse matches before or after the provider (the fast path,
 * device-poll timing, refresh rotation, the wrong-code throttle, offline_access, require-https,
 * the account pages' own sign-in) comes from here, never from a string literal.
 * Caught by: tests/unit/oidc-internals.test.ts (the table is the library's default routes),
 * tests/e2e/oidc-flows.test.ts, tests/e2e/fast-path.test.ts.
 */
export const PROVIDER_ROUTES = {
  authorization: '/auth',
  code_verification: '/device',
  device_authorization: '/device/auth',
  end_session: '/session/end',
  introspection: '/token/introspection',
  jwks: '/jwks',
  pushed_authorization_request: '/request',
  registration: '/reg',
  revocation: '/token/revocation',
  token: '/token',
  userinfo: '/me',
} as const;

/**
 * Discovery is not a configurable route: the library serves it at the well-known path (RFC 8414,
 * OpenID Connect Discovery), lib/helpers/initialize_app.js. Caught by: tests/e2e/oidc-flows.test.ts.
 */
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/**
 * The provider's paths as request-log and metrics labels: its routes, both discovery documents,
 * the end-session confirm and success pages it serves below end_session, and (as patterns) the
 * authorization and device-flow resumes it serves below their routes with the interaction's uid
 * (lib/helpers/initialize_app.js). Caught by: tests/e2e/metrics.test.ts (the /token label).
 */
export const PROVIDER_PATH_LABELS: { paths: readonly string[]; patterns: ReadonlyArray<[label: string, pattern: RegExp]> } = {
  paths: [
    ...Object.values(PROVIDER_ROUTES), DISCOVERY_PATH, '/.well-known/oauth-authorization-server',
    `${PROVIDER_ROUTES.end_session}/confirm`, `${PROVIDER_ROUTES.end_session}/success`,
  ],
  patterns: [PROVIDER_ROUTES.authorization, PROVIDER_ROUTES.code_verification].map((route) => (
    [`${route}/:uid`, new RegExp(`^${route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^/]+$`)] as [string, RegExp]
  )),
};

// ─── Request bodies ──────────────────────────────────────────────────────────────────────────────

/**
 * The library's own limit for a form body (lib/shared/selective_body.js LIMIT): a body we read for
 * it (offline_access, src/oidc/offline-access.ts) must be refused at the same size it would refuse.
 * Caught by: tests/e2e/bad-input.test.ts (an oversized form is a 413, not a 500).
 */
export const PROVIDER_FORM_BODY_LIMIT_BYTES = 56 * 1024;

/**
 * The error_description the library gives a body it could not parse (lib/shared/selective_body.js),
 * which is also what a body our input guard refused reads as: the device code page tells it apart
 * from an expired form by it. Caught by: tests/e2e/fuzz.test.ts, tests/e2e/bad-input.test.ts.
 */
export const UNREADABLE_BODY_DESCRIPTION = 'failed to parse the request body';

/**
 * Hands the provider a form body we have already read and rewritten. selective_body.js reads the
 * stream only while it is readable, else falls back to `ctx.request.body` and parses that object
 * as a form. Caught by: tests/e2e/authorize-post.test.ts (offline_access over POST /auth).
 */
export function handOnParsedForm(ctx: Context, body: Record<string, unknown>): void {
  (ctx.request as { body?: unknown }).body = body;
}

/**
 * Calls `check` with every request body as the provider stores it, before any of its handlers
 * reads it. The library parses a body itself, after our middleware, and assigns it to
 * `ctx.oidc.body` (lib/shared/selective_body.js) inside a try whose failure it answers as
 * invalid_request "failed to parse the request body"; an accessor on OIDCContext.prototype.body is
 * the one place a body can be refused without reading the stream twice. `check` returns a reason
 * to refuse (then thrown, as the library's own parse failure is) or undefined.
 * Caught by: tests/e2e/fuzz.test.ts, tests/e2e/bad-input.test.ts (a control character in a token
 * request's body is a 400 invalid_request that says why).
 */
export function checkBodiesAsStored(provider: Provider, check: (ctx: Context | undefined, value: unknown) => Error | undefined): void {
  const bodies = new WeakMap<object, unknown>();
  Object.defineProperty(provider.OIDCContext.prototype, 'body', {
    configurable: true,
    get(this: object) { return bodies.get(this); },
    set(this: { ctx?: Context }, value: unknown) {
      const refused = check(this.ctx, value);
      if (refused) throw refused;
      bodies.set(this, value);
    },
  });
}

// ─── Errors ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Lets `answer` rewrite the provider's answer to a failure. When it emits `server_error` (lib/
 * shared/error_handler.js) it has already written its 500 (JSON, or a page through renderError),
 * and the response is sent only after the middleware stack returns, so a listener may still change
 * status, headers and body (a store failure becomes a 503 with Retry-After).
 * Caught by: tests/e2e/faults.test.ts (503s, never a 500, on the provider's endpoints).
 */
export function rewriteServerErrors(provider: Provider, answer: (ctx: KoaContextWithOIDC, err: Error) => void): void {
  provider.on('server_error', answer);
}

/**
 * Reports a failure that escaped the provider's own error handler as if that handler had met it:
 * the same `server_error` event, so the same listeners log it or turn a store failure into a 503.
 * Caught by: tests/e2e/faults.test.ts, tests/e2e/bad-input.test.ts (no bare 500 from the device pages).
 */
export function reportServerError(provider: Provider, ctx: Context, err: unknown): void {
  provider.emit('server_error', ctx as KoaContextWithOIDC, err);
}

/**
 * Puts `middleware` first among the provider's own, also before what src/oidc/provider.ts added
 * with provider.use earlier. The provider is a Koa application (v8+), whose `middleware` array
 * Koa composes in order; provider.use only appends. Caught by: tests/e2e/faults.test.ts (the
 * request line and metrics record the 503 a store failure after the handler became).
 */
export function useOutermost(provider: Provider, middleware: Middleware): void {
  const stack = (provider as unknown as { middleware: Middleware[] }).middleware;
  provider.use(middleware);
  stack.splice(stack.indexOf(middleware), 1);
  stack.unshift(middleware);
}

// ─── Parameters and clients ──────────────────────────────────────────────────────────────────────

/**
 * Removes an extra parameter from the request's parameters, from inside its extraParams validator.
 * The documented validator may only throw; the library reads `ctx.oidc.params` after it, so a
 * value cleared there is gone for the rest of the request (and is not stored with the
 * interaction). Caught by: tests/e2e/tokens-conformance.test.ts (offline_access asks once per grant;
 * a mark sent by a client is ignored).
 */
export function dropParam(ctx: KoaContextWithOIDC, name: string): void {
  (ctx.oidc.params as Record<string, unknown>)[name] = undefined;
}

/**
 * Whether the client is registered for `grantType` (Client#grantTypeAllowed, the library's own
 * check at the token endpoint). Caught by: tests/e2e/tokens-conformance.test.ts (a client not
 * registered for refresh_token gets no refresh token).
 */
export function clientAllowsGrant(client: { grantTypeAllowed?(type: string): boolean } | undefined, grantType: string): boolean {
  return !!client?.grantTypeAllowed?.(grantType);
}

// ─── Sessions ────────────────────────────────────────────────────────────────────────────────────

/**
 * The name of the provider's session cookie (Provider#cookieName, what the library uses itself).
 * Caught by: tests/e2e/device-cli.test.ts (wrong codes are limited per session).
 */
export function sessionCookieName(provider: Provider): string {
  return provider.cookieName('session');
}

/** The authentication methods a session recorded (the login result's amr, kept on the Session model). */
export function sessionAmr(session: object): string[] {
  return (session as { amr?: string[] }).amr ?? [];
}

/**
 * Stores a session the provider made for this request but has not stored (no session cookie came
 * with it), the way the library stores a new one: the cookie, then the record with the session
 * lifetime. The library creates a session lazily for any request to a page with a form (its xsrf
 * token lives there) and, finding it changed but never stored, fails to save it after the page
 * (a bare 500). `exp` is set only on a stored session. Caught by: tests/e2e/bad-input.test.ts
 * (POST /device without a session cookie is a 400 code page whose form works).
 */
export async function storeNewSession(ctx: KoaContextWithOIDC, settings: {
  ttl: number | ((ctx: KoaContextWithOIDC, session: Session) => number); cookie: CookiesSetOptions;
}): Promise<void> {
  const session = ctx.oidc.session;
  if (!session || typeof session.exp === 'number') return; // stored before: the provider saves it itself
  ctx.oidc.cookies.set(sessionCookieName(ctx.oidc.provider), session.jti, settings.cookie);
  await session.save(typeof settings.ttl === 'function' ? settings.ttl(ctx, session) : settings.ttl);
}

// ─── Device flow pages ───────────────────────────────────────────────────────────────────────────

/**
 * The library's CSRF token from the form HTML it hands userCodeInputSource/userCodeConfirmSource
 * (`<input type="hidden" name="xsrf" value="…">`, bound to the session): our own page must post
 * it back. Caught by: tests/e2e/device-cli.test.ts (every device sign-in; a confirm form without
 * its CSRF token is refused).
 */
export function xsrfTokenOf(form: string): string {
  const m = /name="xsrf" value="([^"]*)"/.exec(form);
  if (!m) throw new Error('oidc-provider device form without an xsrf field: check src/oidc/internals.ts after an upgrade');
  return m[1]!;
}

/**
 * The names of the errors the library re-renders the code page with (lib/helpers/re_render_errors.js;
 * its own default userCodeInputSource tells them apart by name, and `userCode` carries what was typed).
 * Caught by: tests/e2e/device-cli.test.ts (wrong codes are limited; deny ends in access_denied).
 */
export const DEVICE_CODE_ERRORS = {
  notFound: 'NotFoundError',
  expired: 'ExpiredError',
  alreadyUsed: 'AlreadyUsedError',
  noCode: 'NoCodeError',
  aborted: 'AbortedError',
} as const;

/** What the user typed, as the re-render error carries it (undefined when nothing was). */
export function typedUserCode(err: unknown): string | undefined {
  const typed = (err as { userCode?: unknown } | undefined)?.userCode;
  return typeof typed === 'string' ? typed : undefined;
}

/**
 * The device code this request is about (ctx.oidc.deviceCode, the DeviceCode entity the library
 * loads on the code page and its resume): its client, the authorization parameters the terminal
 * sent and when it asked (seconds). Caught by: tests/e2e/device-cli.test.ts (the confirm page names
 * the app, the scopes and the workspace).
 */
export function pendingDeviceCode(ctx: KoaContextWithOIDC): { clientId?: string; params: Record<string, unknown>; issuedAt?: number } | undefined {
  const code = ctx.oidc.deviceCode;
  if (!code) return undefined;
  return { clientId: code.clientId, params: (code.params ?? {}) as Record<string, unknown>, issuedAt: code.iat };
}

/**
 * Ends a device code with access_denied now, so the polling terminal hears it at its next poll:
 * the token endpoint answers a code's stored `error`/`errorDescription` (lib/actions/grants/
 * device_code.js), as it does after the user aborts. Caught by: tests/e2e/device-cli.test.ts
 * (lets no session outlive its account into an approval).
 */
export async function denyDeviceCode(ctx: KoaContextWithOIDC, description: string): Promise<void> {
  const code = ctx.oidc.deviceCode!;
  Object.assign(code, { error: 'access_denied', errorDescription: description });
  await code.save();
}

/** The routes on which the user is in the device flow and has already confirmed on device-confirm. */
const CONFIRMED_DEVICE_ROUTES = new Set(['code_verification', 'device_resume']);

/**
 * The account confirming a device flow on this request, when it is one: the route names of the
 * code page and its resume, and the Account entity the library loaded for the session
 * (ctx.oidc.account, lib/actions/authorization/load_account.js). Caught by:
 * tests/e2e/device-cli.test.ts (no second consent page after device-confirm).
 */
export function confirmingDeviceAccount(ctx: KoaContextWithOIDC): string | undefined {
  const { oidc } = ctx;
  if (!CONFIRMED_DEVICE_ROUTES.has(oidc.route) || !oidc.deviceCode) return undefined;
  return (oidc.account as { accountId?: string } | undefined)?.accountId;
}

/**
 * Every scope the request asks for, OpenID and resource-server scopes alike (ctx.oidc
 * requestParamScopes, as the library's consent checks read it). Caught by:
 * tests/e2e/workspace-picker.test.ts (the picker appears for the workspace scope).
 */
export function requestedScopes(ctx: KoaContextWithOIDC): ReadonlySet<string> {
  return ctx.oidc.requestParamScopes;
}

/**
 * What the request asks for, as the library's own consent checks read it (ctx.oidc
 * requestParamOIDCScopes, requestParamClaims, requestParamScopes and resourceServers), by
 * resource server. Caught by: tests/e2e/device-cli.test.ts, tests/e2e/workspace-picker.test.ts.
 */
export function requestedAuthorization(ctx: KoaContextWithOIDC): { oidcScope: string[]; claims: string[]; resourceScopes: Record<string, string[]> } {
  const { oidc } = ctx;
  const resourceScopes: Record<string, string[]> = {};
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const scopes = [...requestedScopes(ctx)].filter((s) => server.scopes.has(s));
    if (scopes.length) resourceScopes[indicator] = scopes;
  }
  return { oidcScope: [...oidc.requestParamOIDCScopes], claims: [...oidc.requestParamClaims], resourceScopes };
}

// ─── Refresh-token rotation ──────────────────────────────────────────────────────────────────────

export interface IssuedToken { jti?: string; destroy(): Promise<void> }

/**
 * The refresh token this token request consumed, and the tokens it issued. The refresh_token
 * grant (lib/actions/grants/refresh_token.js) calls RefreshToken#consume() (our adapter's consume)
 * on the presented token, records it as ctx.oidc.entities.RotatedRefreshToken, then sets the new
 * token as ctx.oidc.entities.RefreshToken before saving it and the access token as
 * ctx.oidc.entities.AccessToken before saving it, and answers 200 only after both are saved; the
 * handler runs inside the calling middleware's async context (AsyncLocalStorage reaches the
 * adapter). src/oidc/adapters/rotation.ts builds on that order. If a version changes the order or
 * the entities' names, tests/integration/adapter-conformance.test.ts (the rotation cases),
 * tests/e2e/faults.test.ts (a refresh whose new token could not be stored) and
 * tests/e2e/refresh-rotation.test.ts fail.
 */
export function rotatedRefreshToken(ctx: KoaContextWithOIDC): IssuedToken | undefined {
  return ctx.oidc?.entities?.RotatedRefreshToken as IssuedToken | undefined;
}

/** The refresh and access token the refresh_token grant set on this request (see rotatedRefreshToken). */
export function tokensSetBy(ctx: KoaContextWithOIDC): { refreshToken?: IssuedToken; accessToken?: IssuedToken } {
  const { RefreshToken, AccessToken } = (ctx.oidc?.entities ?? {}) as { RefreshToken?: IssuedToken; AccessToken?: IssuedToken };
  return { refreshToken: RefreshToken, accessToken: AccessToken };
}

// ─── Grants and tokens minted outside a flow ─────────────────────────────────────────────────────

/**
 * A grant for `scope` living `ttlSeconds`, and one opaque access token under it (impersonation,
 * src/admin/ through the facade). Grant#save takes the record's lifetime in seconds (else the
 * Grant ttl setting; lib/models/base_model.js), and the AccessToken constructor takes
 * `expiresIn`, `gty` and `extra` as the library's own grants pass them. Caught by:
 * tests/e2e/admin-api.test.ts (mints a short-lived token with act; the token exchange).
 */
export async function mintAccessToken(provider: Provider, input: {
  accountId: string; clientId: string; scope: string; ttlSeconds: number; gty: string; extra: Record<string, unknown>;
}): Promise<{ value: string; jti: string }> {
  const grant = new provider.Grant({ accountId: input.accountId, clientId: input.clientId });
  grant.addOIDCScope(input.scope);
  const grantId = await (grant as unknown as { save(ttl: number): Promise<string> }).save(input.ttlSeconds);
  const token = new provider.AccessToken({
    accountId: input.accountId, clientId: input.clientId, grantId, scope: input.scope, gty: input.gty,
    expiresIn: input.ttlSeconds, extra: input.extra,
  } as never);
  const value = await token.save();
  return { value, jti: token.jti };
}

/**
 * Whether an access token is bound to a resource server or a key (its `aud`, DPoP `jkt`, mTLS
 * `x5t#S256` properties): then it is not for Gatehouse's own APIs. The lookup around it is
 * exercised by tests/e2e/account-api.test.ts; no test presents a bound opaque token yet (Gatehouse
 * issues none: resource servers get JWTs), so after an upgrade read AccessToken's properties.
 */
export function boundElsewhere(token: object): boolean {
  const t = token as { aud?: unknown; jkt?: unknown; 'x5t#S256'?: unknown };
  return !!(t.aud || t.jkt || t['x5t#S256']);
}

// ─── Interaction policy ──────────────────────────────────────────────────────────────────────────

/**
 * The name of the check the library adds to every requestable prompt, consent included
 * (`${name}_prompt`, lib/helpers/interaction_policy/prompt.js): the one prompt=consent triggers.
 */
export const LIBRARY_CONSENT_PROMPT_CHECK = 'consent_prompt';

/**
 * The condition of that check, which src/oidc/policy.ts replaces with its own (the same, except
 * for a consent Gatehouse implied for offline_access). Caught by: tests/e2e/tokens-conformance.test.ts
 * (offline_access asks once per grant), tests/e2e/oidc-flows.test.ts (prompt=consent asks).
 */
export function consentPromptRequested(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.prompts.has('consent') && ctx.oidc.promptPending('consent');
}
