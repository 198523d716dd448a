// The two small policies of issue 11 as pure functions: when a request needs a second factor by
// what it asks for (src/oidc/acr.ts), and who may introspect or revoke a token (src/oidc/token-access.ts).
import { describe, expect, it } from '@jest/globals';
import { requestNeedsMfa } from '../../src/oidc/acr.ts';
import { mayIntrospect, mayRevoke } from '../../src/oidc/token-access.ts';

describe('requestNeedsMfa', () => {
  it('reads acr_values as a list of acceptable values', () => {
    expect(requestNeedsMfa({})).toBe(false);
    expect(requestNeedsMfa({ acr_values: 'pwd' })).toBe(false);
    expect(requestNeedsMfa({ acr_values: 'pwd mfa' })).toBe(false);
    expect(requestNeedsMfa({ acr_values: 'mfa pwd' })).toBe(false);
    expect(requestNeedsMfa({ acr_values: 'mfa' })).toBe(true);
    expect(requestNeedsMfa({ acr_values: 'urn:unknown mfa' })).toBe(true);
    expect(requestNeedsMfa({ acr_values: 'urn:unknown' })).toBe(false);
  });

  it('steps up for an essential acr claim that only a second factor satisfies', () => {
    const claims = (acr: unknown) => JSON.stringify({ id_token: { acr } });
    expect(requestNeedsMfa({ claims: claims({ essential: true, values: ['mfa'] }) })).toBe(true);
    expect(requestNeedsMfa({ claims: claims({ essential: true, value: 'mfa' }) })).toBe(true);
    expect(requestNeedsMfa({ claims: claims({ essential: true, values: ['pwd', 'mfa'] }) })).toBe(false);
    expect(requestNeedsMfa({ claims: claims({ values: ['mfa'] }) })).toBe(false); // voluntary
    expect(requestNeedsMfa({ claims: '{not json' })).toBe(false);
  });
});

describe('token access', () => {
  const client = (clientId: string, meta: Record<string, unknown> = {}, clientAuthMethod = 'client_secret_basic') => ({ clientId, clientAuthMethod, metadata: () => meta });
  const api = 'https://api.example.test';

  it('introspection: the token\'s own client, or the resource server of one of its audiences', () => {
    expect(mayIntrospect(client('a'), { clientId: 'a' })).toBe(true);
    expect(mayIntrospect(client('b'), { clientId: 'a' })).toBe(false);
    const rs = client('rs', { resource_server_for: [api] });
    expect(mayIntrospect(rs, { clientId: 'a', aud: api })).toBe(true);
    expect(mayIntrospect(rs, { clientId: 'a', aud: [api, 'https://other.example'] })).toBe(true);
    expect(mayIntrospect(rs, { clientId: 'a', aud: 'https://other.example' })).toBe(false);
    expect(mayIntrospect(rs, { clientId: 'a' })).toBe(false);
    expect(mayIntrospect(client('rs', { resource_server_for: [api] }, 'none'), { clientId: 'a', aud: api })).toBe(false);
    expect(mayIntrospect(client('a', {}, 'none'), { clientId: 'a' })).toBe(false);
  });

  it('revocation: only the token\'s own client', () => {
    expect(mayRevoke(client('a'), { clientId: 'a' })).toBe(true);
    expect(mayRevoke(client('a', {}, 'none'), { clientId: 'a' })).toBe(true);
    expect(mayRevoke(client('rs', { resource_server_for: [api] }), { clientId: 'a', aud: api })).toBe(false);
  });
});
