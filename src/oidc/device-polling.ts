// The token endpoint's answers to a polling device (RFC 8628 §3.4–3.5) that oidc-provider leaves
// to the deployment: it advertises the interval, answers slow_down to a device that polls faster
// than that (and raises its interval by 5 s, as §3.5 requires), and says expired_token rather than
// invalid_grant after the code's lifetime, when the stores have already dropped the code itself.
// It runs after the provider's handler (provider.use) and only rewrites the answers of device polls.
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AdapterFactory } from './adapters/types.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: the default a client uses when the response gives none; we state it anyway. */
export const POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;
/** Polls are timed on whichever node answers: allow for clock skew between nodes and network jitter. */
const POLL_TOLERANCE_MS = 1000;
/** How long after its expiry a device still hears expired_token (then: invalid_grant, as for any unknown code). */
const EXPIRED_ANSWER_SECONDS = 10 * 60;

interface PollState {
  expiresAt: number; // ms
  interval: number; // seconds
  lastPollAt?: number; // ms
}

const keyOf = (deviceCode: string) => createHash('sha256').update(deviceCode).digest('base64url');

export function devicePolling(adapters: AdapterFactory): Middleware {
  const store = adapters('DevicePoll');
  const save = (key: string, state: PollState) =>
    store.upsert(key, state as unknown as Record<string, unknown>, Math.max(1, Math.ceil((state.expiresAt - Date.now()) / 1000)) + EXPIRED_ANSWER_SECONDS);

  async function afterDeviceAuthorization(ctx: KoaContextWithOIDC) {
    const body = ctx.body as { device_code?: string; expires_in?: number; interval?: number };
    if (ctx.status !== 200 || !body?.device_code || !body.expires_in) return;
    body.interval = POLL_INTERVAL_SECONDS;
    await save(keyOf(body.device_code), { expiresAt: Date.now() + body.expires_in * 1000, interval: POLL_INTERVAL_SECONDS });
  }

  async function afterPoll(ctx: KoaContextWithOIDC, deviceCode: string) {
    const key = keyOf(deviceCode);
    if (ctx.status === 200) { await store.destroy(key); return; }
    const body = ctx.body as { error?: string; error_description?: string };
    const state = await store.find(key) as PollState | undefined;
    if (!state || !body?.error) return;
    const now = Date.now();
    if (body.error === 'invalid_grant' && now >= state.expiresAt) {
      body.error = 'expired_token';
      body.error_description = 'the device code has expired; start the sign-in again';
      return;
    }
    if (body.error !== 'authorization_pending') return;
    if (state.lastPollAt !== undefined && now - state.lastPollAt < state.interval * 1000 - POLL_TOLERANCE_MS) {
      state.interval += SLOW_DOWN_STEP_SECONDS;
      body.error = 'slow_down';
      body.error_description = `polling too often: wait at least ${state.interval} seconds between requests`;
    }
    state.lastPollAt = now;
    await save(key, state);
  }

  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route === 'device_authorization') return afterDeviceAuthorization(ctx as KoaContextWithOIDC);
    const params = oidc?.route === 'token' ? oidc.params as { grant_type?: unknown; device_code?: unknown } | undefined : undefined;
    if (params?.grant_type === DEVICE_CODE_GRANT && typeof params.device_code === 'string') {
      await afterPoll(ctx as KoaContextWithOIDC, params.device_code);
    }
  };
}
