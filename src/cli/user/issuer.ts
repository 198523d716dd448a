// Talking to an issuer with openid-client as a public client, and turning what can go wrong into
// one sentence that says what to do.
import { platform } from 'node:os';
import * as oidc from 'openid-client';
import { CliError } from '../errors.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Seconds before a request to the issuer gives up: long enough for a slow network, short enough for a prompt. */
const REQUEST_TIMEOUT_SECONDS = 15;
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
/** Shown on the device confirm page, so the user can tell this terminal's request from another. */
export const USER_AGENT = `gatehouse-cli (${platform()}; node ${process.versions.node})`;

export const SESSION_ENDED = 'Your session has ended: run gatehouse login.';

/**
 * What an issuer given without its scheme ("localhost:3000", "id.example.com") was most likely
 * meant to be: http:// for a loopback address (a server on this machine), https:// for the rest.
 * `new URL('localhost:3000')` parses, as the scheme "localhost:", so this is checked first.
 */
export function withLikelyScheme(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  let host: string;
  try { host = new URL(`http://${value}`).hostname; } catch { return undefined; }
  return `${LOOPBACK_HOSTS.has(host) ? 'http' : 'https'}://${value.replace(/\/+$/, '')}`;
}

export function parseIssuer(value: string): URL {
  const suggestion = withLikelyScheme(value);
  if (suggestion) throw new CliError(`--issuer needs its scheme: did you mean --issuer ${suggestion} ?`, 2);
  let url: URL;
  try { url = new URL(value); } catch {
    throw new CliError(`--issuer must be a URL such as https://id.example.com (got "${value}").`, 2);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError(`--issuer must be an https URL (got "${value}").`, 2);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new CliError(`Use an https issuer URL: plain http is only allowed for localhost (got "${value}").`, 2);
  }
  return url;
}

const withUserAgent: oidc.CustomFetch = (url, options) =>
  fetch(url, { ...options, headers: { ...options.headers, 'user-agent': USER_AGENT } } as RequestInit);

/** Discovery, then a Configuration for the public client `clientId` (no secret: PKCE or device flow). */
export async function connect(issuer: string, clientId: string): Promise<oidc.Configuration> {
  const url = parseIssuer(issuer);
  try {
    return await oidc.discovery(url, clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), {
      execute: url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      timeout: REQUEST_TIMEOUT_SECONDS,
      [oidc.customFetch]: withUserAgent,
    });
  } catch (e) {
    if (isNetworkError(e)) throw unreachable(issuer);
    const actual = announcedIssuer(e);
    if (actual) throw new CliError(`The issuer at ${issuer} calls itself ${actual}: use --issuer ${actual}.`, 2);
    throw new CliError(`${issuer} did not answer as an OpenID Connect issuer (no valid /.well-known/openid-configuration): check --issuer.`);
  }
}

/** The issuer a discovery document names when it is not the URL asked for (localhost vs 127.0.0.1, a path). */
function announcedIssuer(e: unknown): string | undefined {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    const detail = c as { attribute?: unknown; body?: { issuer?: unknown } };
    if (detail.attribute === 'issuer' && typeof detail.body?.issuer === 'string') return detail.body.issuer;
  }
  return undefined;
}

function errorCode(e: unknown): string | undefined {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_ERRORS.has(code) || code === 'OAUTH_TIMEOUT')) return code;
    if ((c as Error).name === 'TimeoutError') return 'OAUTH_TIMEOUT';
  }
  return undefined;
}

export function isNetworkError(e: unknown): boolean {
  return errorCode(e) !== undefined || (e instanceof TypeError && e.message === 'fetch failed');
}

export function unreachable(issuer: string): CliError {
  return new CliError(`Cannot reach the issuer at ${issuer}: check the URL and your network connection, and that the server is running.`);
}

/** The OAuth error code of an issuer's answer (RFC 6749 §5.2), if that is what e is. */
export function oauthError(e: unknown): string | undefined {
  if (e instanceof oidc.ResponseBodyError) return e.error;
  if (e instanceof oidc.WWWAuthenticateChallengeError) return e.cause[0]?.parameters.error ?? 'invalid_token';
  return undefined;
}

/** Turns an error from a request to the issuer into a CliError; `known` handles the cases particular to the caller. */
export function explain(e: unknown, issuer: string, known: Record<string, string> = {}): CliError {
  if (e instanceof CliError) return e;
  if (isNetworkError(e)) return unreachable(issuer);
  const code = oauthError(e);
  if (code && known[code]) return new CliError(known[code]);
  if (e instanceof oidc.ResponseBodyError) {
    if (e.status >= 500) return new CliError(`The issuer at ${issuer} had a problem (HTTP ${e.status}): try again in a moment.`);
    return new CliError(`The issuer refused the request (${e.error}${e.error_description ? `: ${e.error_description}` : ''}): check the options, or run gatehouse login again.`);
  }
  const status = (e as { cause?: { status?: number } }).cause?.status;
  if (typeof status === 'number' && status >= 500) return new CliError(`The issuer at ${issuer} had a problem (HTTP ${status}): try again in a moment.`);
  return new CliError(`Unexpected answer from the issuer at ${issuer} (${(e as Error).message}): try again, or run gatehouse login.`);
}
