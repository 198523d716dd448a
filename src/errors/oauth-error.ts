// The one translation of Gatehouse's own errors (AppError) into OAuth errors, for the code that
// answers inside the provider's protocol endpoints (a grant handler, an authorization-policy
// check). Spec names only, chosen by the endpoint the refusal happens at:
//   token endpoint (RFC 6749 §5.2)          400 → invalid_request (the request is malformed)
//                                           other 4xx → invalid_grant (what it presents or asks
//                                           for cannot be granted: no such user, not allowed …)
//   authorization endpoint (§4.1.2.1)       any 4xx → access_denied (the request's parameters
//                                           were already checked; what is left is a refusal)
// A 5xx is not translated: it is a failure on our side, never an OAuth refusal, and stays what it
// is for the provider's own error handling (src/oidc/events.ts).
// Ground floor: no oidc-provider here; src/oidc/provider-errors.ts makes the library's error of it.
import { AppError } from './app-error.ts';

export type OAuthEndpoint = 'token' | 'authorization';

export interface OAuthError {
  /** the OAuth error code (RFC 6749 §4.1.2.1, §5.2) */
  error: string;
  error_description: string;
}

/** The OAuth error an AppError is at `endpoint`, or undefined when it is not ours to translate (not an AppError, or a 5xx). */
export function oauthErrorOf(err: unknown, endpoint: OAuthEndpoint, description?: string): OAuthError | undefined {
  if (!(err instanceof AppError) || err.status >= 500) return undefined;
  const error = endpoint === 'authorization' ? 'access_denied' : err.status === 400 ? 'invalid_request' : 'invalid_grant';
  return { error, error_description: description ?? err.message };
}
