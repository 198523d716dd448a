// The baseline: oidc-provider alone, configured to the library features Gatehouse turns on (code +
// PKCE, refresh rotation, client credentials, introspection, revocation, userinfo, device flow,
// resource indicators, RP-initiated logout; the same scopes, claims, acr values and algorithms) and
// storing its records in the same Redis through Gatehouse's own Redis adapter, so a difference in
// the figures is what Gatehouse adds around the library. Clients are static (the library's own
// fast path); accounts are in memory; sign-in is the library's development interactions.
//   PORT=… REDIS_URL=… BENCH_PREFIX=… BENCH_CLIENTS='<json>' node bench/bare-server.ts
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';
import { createRedis } from '../src/storage/redis.ts';
import { createRedisAdapterFactory } from '../src/oidc/adapters/redis-adapter.ts';
import { ACR_VALUES, EXTRA_SCOPES, SCOPE_CLAIMS } from '../src/oidc/claims.ts';

const port = Number(process.env.PORT ?? 3100);
const issuer = `http://127.0.0.1:${port}`;
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const adapters = createRedisAdapterFactory(redis, process.env.BENCH_PREFIX ?? 'bare:');

function signingKey(alg: 'RS256' | 'ES256') {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg, use: 'sig' };
}

class AdapterBridge {
  constructor(name: string) { return adapters(name) as unknown as AdapterBridge; }
}

const configuration: Configuration = {
  adapter: AdapterBridge as unknown as Configuration['adapter'],
  clients: JSON.parse(process.env.BENCH_CLIENTS ?? '[]'),
  jwks: { keys: [signingKey('RS256'), signingKey('ES256')] } as Configuration['jwks'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: SCOPE_CLAIMS,
  scopes: EXTRA_SCOPES,
  acrValues: ACR_VALUES,
  responseTypes: ['code'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  rotateRefreshToken: true,
  ttl: {
    AuthorizationCode: 60, AccessToken: 3600, ClientCredentials: 3600, IdToken: 3600, RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Interaction: 3600, DeviceCode: 600,
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none' },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****' },
    rpInitiatedLogout: { enabled: true },
    // as Gatehouse: no default resource, so these requests get opaque access tokens
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined as unknown as string,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => { throw new Error('no resource servers in the bench'); },
    },
  },
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'ES256'],
    userinfoSigningAlgValues: ['RS256', 'ES256'],
    introspectionSigningAlgValues: ['RS256', 'ES256'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() { return { sub, email: sub, email_verified: true, name: 'Bench User', updated_at: 0 }; },
    };
  },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, '127.0.0.1');
server.on('listening', () => process.stdout.write(`bare oidc-provider listening on ${issuer}\n`));
process.once('SIGTERM', () => { server.close(); redis.disconnect(); });
