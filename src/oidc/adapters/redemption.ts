// How the stores redeem records at the token endpoint: the rules both adapters (Redis, SQL) share.
import { errors } from 'oidc-provider';
import type { Adapter } from '../../storage/short-lived-store.ts';

/**
 * A rotated refresh token's consumption stays pending until the new tokens are stored and about to
 * be sent (the token endpoint settles it, src/oidc/adapters/rotation.ts). A pending consumption is
 * not a use: if the request that consumed fails (the new refresh token never stored, a 503), the
 * same refresh token presented again after this long rotates normally, instead of reading as a
 * replay that revokes the whole grant. While it is pending a second presentation is told to retry
 * (503), so of N parallel redemptions still exactly one wins.
 *
 * Longer than a refresh request normally takes between consume and answer (a few store round
 * trips, at most one command timeout: src/storage/redis.ts), so a slow request is rarely overtaken;
 * no longer than the Retry-After a failed one is answered with (src/storage/failures.ts), so the
 * client's retry finds the token free again. A request slower than this (a table lock, a pool
 * wait) can be overtaken by another redemption of the same token; settling is compare-and-set on
 * the consuming request's owner nonce, so the slow one then answers 503 instead of a second 200
 * (src/oidc/adapters/rotation.ts): the window's length is a matter of availability, not safety.
 */
export const ROTATION_SETTLE_MS = 5000;

/**
 * A second redemption while a rotation of the same refresh token is in flight: its outcome is not
 * known yet, so neither a replay (no revocation) nor a win. Answered 503 with Retry-After.
 */
export class RotationPendingError extends Error {
  readonly backend: 'redis' | 'postgres';
  constructor(backend: 'redis' | 'postgres') {
    super('this refresh token is being rotated by another request; try again in a moment');
    this.name = 'RotationPendingError';
    this.backend = backend;
  }
}

/** Models indexed by account (see AdapterFactory.revokeAccount). */
export const ACCOUNT_INDEXED = new Set(['Session', 'Grant']);

/** Models redeemed at the token endpoint: of N parallel redemptions exactly one may win. */
const REDEEMED_AT_TOKEN_ENDPOINT = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * A redemption that lost the race (or found the record gone) is a replay: revoke what the grant
 * issued, as a sequential replay would, and answer invalid_grant.
 */
export async function lostConsumeRace(adapter: Adapter, model: string, grantId: string | undefined): Promise<void> {
  if (!REDEEMED_AT_TOKEN_ENDPOINT.has(model)) return;
  if (grantId) await adapter.revokeByGrantId(grantId);
  throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
}
