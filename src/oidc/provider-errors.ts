// Our errors, thrown inside the provider's endpoints, as the library's OAuth errors: the mapping is
// src/errors/oauth-error.ts (the one translation); this only picks the library's class for the code.
import { errors } from 'oidc-provider';
import { oauthErrorOf, type OAuthEndpoint } from '../errors/oauth-error.ts';

const CLASSES: Record<string, new (description: string) => Error> = {
  invalid_request: errors.InvalidRequest,
  invalid_grant: errors.InvalidGrant,
  access_denied: errors.AccessDenied,
};

/**
 * `err` as the provider's OAuth error at `endpoint` when it is one of our refusals (an AppError
 * below 500), else `err` unchanged. `description` replaces the AppError's message.
 */
export function asProviderError(err: unknown, endpoint: OAuthEndpoint, description?: string): unknown {
  const oauth = oauthErrorOf(err, endpoint, description);
  if (!oauth) return err;
  const Class = CLASSES[oauth.error];
  return Class ? new Class(oauth.error_description) : new errors.CustomOIDCProviderError(oauth.error, oauth.error_description);
}
