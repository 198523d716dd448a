// RFC 8707 resource indicators: which APIs may be named in `resource`, with what the provider needs
// to mint their JWT access tokens (RFC 9068). Read from the node's in-memory view of the resources
// (src/resources/resource-registry.ts): GATEHOUSE_RESOURCES and the stored resources. An audience
// that is not there — never registered, disabled or removed — is invalid_target, at authorization,
// at the token endpoint and at refresh (oidc-provider asks again for every token it mints).
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceRegistry } from '../resources/resource-registry.ts';

/** The signing algorithm of resource tokens: RS256 is what every JWT library verifies. */
const RESOURCE_TOKEN_ALG = 'RS256' as const;

export function resourceServerInfo(resources: ResourceRegistry) {
  return async (_ctx: KoaContextWithOIDC, indicator: string) => {
    const resource = await resources.find(indicator);
    if (!resource) throw new errors.InvalidTarget('unknown resource indicator');
    return {
      // its API scopes, `workspace`, and the scopes behind the claims it asks for
      scope: resource.serverScopes,
      audience: resource.audience,
      accessTokenTTL: resource.accessTokenTtl,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: RESOURCE_TOKEN_ALG } },
    };
  };
}

/**
 * ttl.AccessToken / ttl.ClientCredentials: a number there would override every resource's own
 * lifetime, so the lifetime is read from the token's resource server (set from
 * getResourceServerInfo's accessTokenTTL above), else the default.
 */
export function resourceTokenTtl(fallback: number) {
  return (_ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? fallback;
}
