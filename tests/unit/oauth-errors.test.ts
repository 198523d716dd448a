// The one AppError → OAuth error translation (src/errors/oauth-error.ts) and the library errors the
// provider's endpoints throw from it (src/oidc/provider-errors.ts): spec names by endpoint, never a
// refusal made of a failure on our side.
import { describe, expect, it } from '@jest/globals';
import { errors } from 'oidc-provider';
import { AppError, badRequest, conflict, forbidden, notFound, unavailable } from '../../src/errors/app-error.ts';
import { oauthErrorOf } from '../../src/errors/oauth-error.ts';
import { asProviderError } from '../../src/oidc/provider-errors.ts';

describe('oauthErrorOf', () => {
  it('at the token endpoint: a malformed request is invalid_request, any other refusal invalid_grant', () => {
    expect(oauthErrorOf(badRequest('Give a reason.'), 'token')).toEqual({ error: 'invalid_request', error_description: 'Give a reason.' });
    for (const refusal of [notFound('No such user.'), forbidden('Not here.'), conflict('Disabled.')]) {
      expect(oauthErrorOf(refusal, 'token')).toEqual({ error: 'invalid_grant', error_description: refusal.message });
    }
  });

  it('at the authorization endpoint: every refusal is access_denied, with the description given', () => {
    expect(oauthErrorOf(forbidden('You are not a member.'), 'authorization')).toEqual({ error: 'access_denied', error_description: 'You are not a member.' });
    expect(oauthErrorOf(badRequest('bad ref'), 'authorization', 'not a member of "x"')).toEqual({ error: 'access_denied', error_description: 'not a member of "x"' });
  });

  it('leaves failures on our side and foreign errors alone', () => {
    expect(oauthErrorOf(unavailable('The store is away.'), 'token')).toBeUndefined();
    expect(oauthErrorOf(new AppError(500, 'server_error', 'boom'), 'authorization')).toBeUndefined();
    expect(oauthErrorOf(new Error('boom'), 'token')).toBeUndefined();
    expect(oauthErrorOf('boom', 'token')).toBeUndefined();
  });
});

describe('asProviderError', () => {
  it("throws the library's own error classes, which its error handler answers in the spec's shape", () => {
    const request = asProviderError(badRequest('Give a reason.'), 'token');
    expect(request).toBeInstanceOf(errors.InvalidRequest);
    expect(request).toMatchObject({ error: 'invalid_request', error_description: 'Give a reason.', status: 400 });
    expect(asProviderError(notFound('No such user.'), 'token')).toBeInstanceOf(errors.InvalidGrant);
    expect(asProviderError(forbidden('no'), 'authorization', 'not a member')).toBeInstanceOf(errors.AccessDenied);
    expect(asProviderError(forbidden('no'), 'authorization', 'not a member')).toMatchObject({ error_description: 'not a member' });
  });

  it('hands back anything it does not translate unchanged', () => {
    const failure = unavailable('away');
    expect(asProviderError(failure, 'token')).toBe(failure);
    const foreign = new TypeError('x');
    expect(asProviderError(foreign, 'authorization')).toBe(foreign);
  });
});
