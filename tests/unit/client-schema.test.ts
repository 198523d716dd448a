import { describe, expect, it } from '@jest/globals';
import { redirectUriProblem, clientInputSchema, DEVICE_CODE_GRANT } from '../../src/clients/client.schema.ts';

describe('redirect URI rules (RFC 9700 §4.1, RFC 8252)', () => {
  it.each([
    'https://app.example.com/cb',
    'http://127.0.0.1:7999/cb',
    'http://localhost:3000/callback',
    'http://[::1]:8080/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeUndefined());

  it.each([
    ['javascript:alert(1)', /javascript/],
    ['data:text/html,hi', /data/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['http://app.example.com/cb', /loopback/],
    ['relative/path', /absolute/],
    ['https://user:pw@app.example.com/cb', /credentials/],
    ['myapp:/cb', /reverse-domain/],
  ])('refuses %s', (uri, why) => expect(redirectUriProblem(uri)).toMatch(why));
});

describe('client input', () => {
  it('expands device_code and defaults to code + refresh', () => {
    const c = clientInputSchema.parse({ name: 'cli', public: true, grant_types: ['device_code', 'refresh_token'] });
    expect(c.grant_types).toEqual([DEVICE_CODE_GRANT, 'refresh_token']);
    const d = clientInputSchema.parse({ name: 'web', redirect_uris: ['https://a.example/cb'] });
    expect(d.grant_types).toEqual(['authorization_code', 'refresh_token']);
  });
  it('needs a redirect URI for the code flow and no secret for public clients', () => {
    expect(clientInputSchema.safeParse({ name: 'x' }).success).toBe(false);
    expect(clientInputSchema.safeParse({ name: 'x', public: true, grant_types: ['client_credentials'] }).success).toBe(false);
  });
  it('refuses unsupported grants (implicit, password)', () => {
    expect(clientInputSchema.safeParse({ name: 'x', redirect_uris: ['https://a.example/cb'], grant_types: ['implicit'] }).success).toBe(false);
    expect(clientInputSchema.safeParse({ name: 'x', grant_types: ['password'] }).success).toBe(false);
  });
});

describe('client ids are safe on a command line', () => {
  it('refuses a chosen client_id that starts with "-"', () => {
    expect(clientInputSchema.safeParse({ name: 'x', public: true, client_id: '-abc', redirect_uris: ['https://a.example/cb'] }).success).toBe(false);
    expect(clientInputSchema.safeParse({ name: 'x', public: true, client_id: 'abc-', redirect_uris: ['https://a.example/cb'] }).success).toBe(true);
  });

  it('never generates one that starts with "-" or "_" (1 in 32 of raw base64url ids would)', async () => {
    const { newClientId } = await import('../../src/clients/client.service.ts');
    for (let i = 0; i < 2000; i += 1) expect(newClientId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
  });
});
