// private_key_jwt (RFC 7523 §2.2): each provider gets its own key pair. The private JWK is sealed
// with the root's secret box; the public JWK is shown so the operator registers it upstream.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** RS256: what every provider that accepts private_key_jwt accepts (Okta, Auth0, Keycloak, Entra…). */
export const CLIENT_ASSERTION_ALG = 'RS256';
const RSA_BITS = 2048;

export interface ProviderKeyPair { privateJwk: JWK; publicJwk: JWK }

export async function generateProviderKey(): Promise<ProviderKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(CLIENT_ASSERTION_ALG, { extractable: true, modulusLength: RSA_BITS });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const meta = { kid, alg: CLIENT_ASSERTION_ALG, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...pub, ...meta } };
}
