// Refresh-token rotation that is never half done. oidc-provider's refresh_token grant consumes the
// presented token, then saves the new one and the access token; a store failure between those
// leaves the old token spent and no new one delivered, and the client's retry would read as a
// replay that revokes the whole grant. So a refresh token's consumption is only pending
// (ROTATION_SETTLE_MS, in the adapters) and is made final here, once the answer is ready: the new
// tokens are stored, nothing is left to fail but the settling write itself. If that write fails,
// the answer is a 503 and the old token rotates again after the settle time.
//
// Each token request consumes under an owner of its own (a random nonce kept with the pending
// mark), and settles or releases only a mark that is still its own:
// - A rotation slower than the settle window can be overtaken: a second redemption of the same
//   token takes the expired mark over. The slow one must then not answer 200, or one refresh token
//   would yield two live token families (neither a replay, so no reuse detection). It answers 503
//   with Retry-After and removes the tokens it saved, never delivered. Not a revocation of the
//   grant: the overtaking request may be the same honest client retrying after its own timeout,
//   and revoking would sign it out for our slowness. A thief is still caught as rotation always
//   catches one: the other party's next use of the token rotated by the winner is a replay that
//   revokes the grant.
// - A rotation refused with a 4xx after the consume (invalid_target, raised after the new refresh
//   token was saved) releases the consumption: the client's corrected request works at once (not
//   a 503 for the settle time), and the refresh token it was never sent is removed.
//
// It relies on the order in which oidc-provider's refresh_token grant consumes, sets and saves the
// tokens: that reliance, and the tests that catch an upgrade breaking it, are in src/oidc/internals.ts
// (rotatedRefreshToken, tokensSetBy).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { backingServiceFailure } from '../../storage/failures.ts';
import type { AdapterFactory } from '../../storage/short-lived-store.ts';
import { RotationPendingError } from './redemption.ts';
import { PROVIDER_ROUTES, rotatedRefreshToken, tokensSetBy, type IssuedToken } from '../internals.ts';
/** Bytes of an owner nonce: unguessable, so no other request can settle or release our mark. */
const OWNER_BYTES = 16;

/** A token request's owner, drawn when it first consumes (most token requests never do). */
interface OwnerSlot { owner?: string }
const owners = new AsyncLocalStorage<OwnerSlot>();
const newOwner = () => randomBytes(OWNER_BYTES).toString('base64url');

/**
 * The owner a refresh token consumed now is pending under: the current token request's, or a
 * fresh one (a consume outside a token request is never settled: it lapses after the settle time).
 */
export function rotationOwner(): string {
  const slot = owners.getStore();
  if (!slot) return newOwner();
  slot.owner ??= newOwner();
  return slot.owner;
}

/** Runs fn with its consumes pending under `owner` (the token endpoint's per-request scope; tests). */
export function withRotationOwner<T>(owner: string, fn: () => T): T {
  return owners.run({ owner }, fn);
}

/**
 * The slow request's answer when another took its rotation over: its outcome was decided by the
 * other request, so, like a rotation still in flight, a 503 with Retry-After (and counted as one).
 */
export class RotationOvertakenError extends RotationPendingError {
  constructor(backend: 'redis' | 'postgres') {
    super(backend);
    this.message = 'this refresh token was rotated by another request while this one was slow; try again in a moment';
  }
}

/** The refresh and access token this request saved, when the grant got that far. */
function issuedHere(ctx: KoaContextWithOIDC, rotated: IssuedToken): IssuedToken[] {
  const { refreshToken: fresh, accessToken: access } = tokensSetBy(ctx);
  return [fresh?.jti !== rotated.jti ? fresh : undefined, access].filter((t): t is IssuedToken => !!t?.jti);
}

export function settleRotations(adapters: AdapterFactory): Middleware {
  async function settle(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    const slot: OwnerSlot = {};
    await owners.run(slot, next);
    const rotated = rotatedRefreshToken(ctx);
    const owner = slot.owner;
    if (!rotated?.jti || !owner) return;
    if (ctx.status === 200) {
      if (await adapters.settleRotation(rotated.jti, owner)) return;
      // overtaken (or revoked meanwhile): what we saved reaches no one; best effort, the 503 stands
      await Promise.all(issuedHere(ctx, rotated).map((t) => t.destroy().catch(() => {})));
      throw new RotationOvertakenError(adapters.backend);
    }
    if (ctx.status >= 400 && ctx.status < 500) {
      // refused after the consume: undo it, so the client's next, correct request rotates at once.
      // Cleanup only: if a store fails now, the 4xx is still the truth and the mark lapses on its own.
      await Promise.all([
        adapters.releaseRotation(rotated.jti, owner),
        ...issuedHere(ctx, rotated).map((t) => t.destroy()),
      ].map((p) => p.then(() => undefined, (err: unknown) => { if (!backingServiceFailure(err)) throw err; })));
    }
    // a 5xx (a store failure): the new tokens may not be stored; the mark lapses after the settle time
  }
  return (ctx, next) => (ctx.path === PROVIDER_ROUTES.token && ctx.method === 'POST' ? settle(ctx as KoaContextWithOIDC, next) : next());
}
