// Tells an expired device-flow user code from a wrong one. The stores drop a DeviceCode when it
// expires (Redis by its TTL), so the provider answers "no such code" for a code that was real a
// minute ago — and that would count as a wrong guess (src/oidc/device-guard.ts). So each issued
// user code is remembered, by its normalised form, for a while past its expiry: a code typed late
// is told "this code has expired — start again in your terminal" and costs no guess. An expired
// code grants nothing, so not counting it gives a guesser nothing either.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { normalizeUserCode } from './user-code.ts';

/**
 * How long past its expiry a user code is still recognised: a person back from a meeting. Anyone may
 * start a device flow without credentials, so each record is kept no longer than that.
 */
export const EXPIRED_CODE_MEMORY_SECONDS = 2 * 3600;
/** The short-lived-store model the issued codes are kept under (one record per code, no payload of note). */
const MODEL = 'IssuedUserCode';

export interface IssuedUserCodes {
  /** Whether this typed code was issued and has expired (or been cleared) since. */
  expired(typed: string): Promise<boolean>;
}

export function issuedUserCodes(adapters: AdapterFactory): IssuedUserCodes & { watch(provider: Provider): void } {
  const store = () => adapters(MODEL);
  return {
    /** Remembers every code the provider issues (its device_authorization.success event). */
    watch(provider) {
      provider.on('device_authorization.success', (_ctx: KoaContextWithOIDC, body: { user_code?: unknown; expires_in?: unknown }) => {
        if (typeof body?.user_code !== 'string' || typeof body.expires_in !== 'number') return;
        const expiresAt = Math.floor(Date.now() / 1000) + body.expires_in;
        // best effort: a store that fails here failed the DeviceCode's own save a moment ago
        store().upsert(normalizeUserCode(body.user_code), { expiresAt }, body.expires_in + EXPIRED_CODE_MEMORY_SECONDS).catch(() => undefined);
      });
    },
    async expired(typed) {
      const code = normalizeUserCode(typed);
      if (!code) return false;
      const record = await store().find(code);
      return typeof record?.expiresAt === 'number';
    },
  };
}
