import { describe, expect, it } from '@jest/globals';
import { isSupportAmr, noRefreshTokenFromSupport } from '../../src/oidc/support-session.ts';

const client = (allowed: boolean) => ({ grantTypeAllowed: (t: string) => allowed && t === 'refresh_token' });
const ctx = {} as never;

describe('a support session obtains nothing that outlives it', () => {
  it('issues refresh tokens by the usual rule, never for a code made in a support session', async () => {
    await expect(noRefreshTokenFromSupport(ctx, client(true), { scopes: new Set(['openid', 'offline_access']), amr: ['pwd'] })).resolves.toBe(true);
    await expect(noRefreshTokenFromSupport(ctx, client(true), { scopes: new Set(['openid']), amr: ['pwd'] })).resolves.toBe(false);
    await expect(noRefreshTokenFromSupport(ctx, client(false), { scopes: new Set(['offline_access']) })).resolves.toBe(false);
    await expect(noRefreshTokenFromSupport(ctx, client(true), { scopes: new Set(['openid', 'offline_access']), amr: ['support'] })).resolves.toBe(false);
  });

  it('recognises the marking only in an amr list', () => {
    expect(isSupportAmr(['support'])).toBe(true);
    expect(isSupportAmr('support')).toBe(false);
    expect(isSupportAmr(undefined)).toBe(false);
  });
});
