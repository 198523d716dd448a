// Device polls reach whichever node the load balancer picks; their timing is measured by Redis'
// clock, so a node whose own clock is behind cannot wave through a device that polls too fast.
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { devicePolling } from '../../src/oidc/device-polling.ts';
import type { AdapterFactory } from '../../src/storage/short-lived-store.ts';
import { connectRedis } from '../support/stores.ts';

const redis = connectRedis();
const prefix = `t${randomBytes(4).toString('hex')}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const noAdapters = (() => { throw new Error('the Redis store is used'); }) as unknown as AdapterFactory;

/** `fn` with this process's clock off by `offsetMs` (`Date.now()` and `new Date()`), as on a skewed host. */
async function withSkewedClock<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + offsetMs;
  try { return await fn(); } finally { Date.now = realNow; }
}

async function run(mw: Middleware, ctx: Record<string, unknown>): Promise<Record<string, unknown>> {
  await mw(ctx as never, async () => {});
  return ctx.body as Record<string, unknown>;
}

const authorize = (deviceCode: string) => ({ path: '/device/auth', status: 200, oidc: { route: 'device_authorization' }, body: { device_code: deviceCode, expires_in: 600 } });
const pending = (deviceCode: string) => ({
  path: '/token', status: 400, body: { error: 'authorization_pending' },
  oidc: { route: 'token', params: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode } },
});

describe('device poll timing across nodes', () => {
  it('a device polling two nodes back to back hears slow_down, though the first node\'s clock is 30 s behind', async () => {
    const slowNode = devicePolling(noAdapters, { client: redis, prefix });
    const node = devicePolling(noAdapters, { client: redis, prefix });
    const code = randomBytes(16).toString('base64url');
    await run(node, authorize(code));
    expect((await withSkewedClock(-30_000, () => run(slowNode, pending(code)))).error).toBe('authorization_pending');
    const second = await run(node, pending(code));
    expect(second.error).toBe('slow_down');
    expect(second.error_description).toContain('10 seconds');
  });

  it('a node whose clock is an hour fast does not call a live device code expired', async () => {
    const fastNode = devicePolling(noAdapters, { client: redis, prefix });
    const code = randomBytes(16).toString('base64url');
    await run(fastNode, authorize(code));
    // the provider says invalid_grant (e.g. the code was refused): expired_token only after the code's lifetime
    const body = await withSkewedClock(3600_000, () => run(fastNode, { ...pending(code), body: { error: 'invalid_grant' } }));
    expect(body.error).toBe('invalid_grant');
  });
});
