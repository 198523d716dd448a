// Refresh-token rotation that is never half done. oidc-provider's refresh_token grant consumes the
// presented token, then saves the new one and the access token; a store failure between those
// leaves the old token spent and no new one delivered, and the client's retry would read as a
// replay that revokes the whole grant. So a refresh token's consumption is only pending
// (ROTATION_SETTLE_MS, in the adapters) and is made final here, once the answer is ready: the new
// tokens are stored, nothing is left to fail but the settling write itself. If that write fails,
// the answer is a 503 and the old token rotates again after the settle time.
//
// Reliance on oidc-provider internals, all of it here (checked against oidc-provider 9.x,
// lib/actions/grants/refresh_token.js): the grant calls RefreshToken#consume() (our adapter's
// consume) on the presented token, records it as ctx.oidc.entities.RotatedRefreshToken, and answers
// 200 only after saving the new RefreshToken and the AccessToken. If a version changes that order
// or that entity's name, tests/integration/adapter-conformance.test.ts (the rotation cases) and
// tests/e2e/faults.test.ts (a refresh whose new token could not be stored) fail.
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AdapterFactory } from './types.ts';

/** oidc-provider's default token route, which src/oidc/provider.ts keeps. */
const TOKEN_PATH = '/token';

export function settleRotations(adapters: AdapterFactory): Middleware {
  async function settle(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    await next();
    if (ctx.status !== 200) return;
    const rotated = ctx.oidc?.entities?.RotatedRefreshToken as { jti?: string } | undefined;
    if (rotated?.jti) await adapters.settleRotation(rotated.jti);
  }
  return (ctx, next) => (ctx.path === TOKEN_PATH && ctx.method === 'POST' ? settle(ctx as KoaContextWithOIDC, next) : next());
}
