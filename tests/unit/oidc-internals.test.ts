// src/oidc/internals.ts, where it can be checked without a server: the route table is the library's
// own defaults (so provider.ts, which states them, changes nothing, and an upgrade that moves a
// default shows here), and the device form's CSRF token is read, or its absence said loudly.
import { describe, expect, it } from '@jest/globals';
import Provider from 'oidc-provider';
import { PROVIDER_ROUTES, xsrfTokenOf } from '../../src/oidc/internals.ts';

describe('PROVIDER_ROUTES', () => {
  it("is oidc-provider's default route table", () => {
    // every feature with a route on, and no routes configured: the library's defaults
    const bare = new Provider('http://localhost:3000', {
      features: {
        devInteractions: { enabled: false }, deviceFlow: { enabled: true }, introspection: { enabled: true },
        revocation: { enabled: true }, registration: { enabled: true }, rpInitiatedLogout: { enabled: true },
      },
    });
    for (const [name, path] of Object.entries(PROVIDER_ROUTES)) {
      expect([name, new URL(bare.urlFor(name)).pathname]).toEqual([name, path]);
    }
  });
});

describe('xsrfTokenOf', () => {
  it("reads the library's hidden xsrf field, and refuses a form without one", () => {
    expect(xsrfTokenOf('<form method="post"><input type="hidden" name="xsrf" value="a1b2-c3"/></form>')).toBe('a1b2-c3');
    expect(() => xsrfTokenOf('<form method="post"></form>')).toThrow(/without an xsrf field/);
  });
});
