// The registry's input rules and the presets' data (src/upstream/): pure, no database.
import { describe, expect, it } from '@jest/globals';
import { providerInputSchema, providerPatchSchema, orgSyncRuleSchema, upstreamUrlProblem, emailDomainAllowed, PROVIDER_NAME } from '../../src/upstream/provider.schema.ts';
import { PRESETS, PROVIDER_KINDS, trustEmailByDefault, tenantFromIssuer, microsoftIssuer, isMicrosoftMultiTenant } from '../../src/upstream/presets.ts';

describe('provider names', () => {
  it('are DNS-label slugs of 2–63 characters (as the migration checks)', () => {
    for (const ok of ['ab', 'google', 'corp-sso', 'a1', 'x'.repeat(63)]) expect(PROVIDER_NAME.test(ok)).toBe(true);
    for (const bad of ['a', 'Google', 'corp_sso', '-corp', 'corp-', 'co--rp', 'x'.repeat(64), 'corp sso', 'corp/x', '../x']) expect(PROVIDER_NAME.test(bad)).toBe(false);
  });
});

describe('providerInputSchema', () => {
  const base = { name: 'corp', issuer: 'https://idp.example', client_id: 'id' };
  it('defaults the kind to oidc and normalises lists and scopes', () => {
    const p = providerInputSchema.parse({ ...base, scopes: 'openid  email,profile', allowed_email_domains: ['Example.COM '], home_realm_domains: ['corp.example'] });
    expect(p.kind).toBe('oidc');
    expect(p.allowed_email_domains).toEqual(['example.com']);
    expect(p.scopes).toEqual(['openid', 'email', 'profile']);
    expect(providerInputSchema.safeParse({ ...base, name: 'new' }).success).toBe(false);
    expect(providerInputSchema.parse({ ...base, scopes: ['openid', 'email'] }).scopes).toEqual(['openid', 'email']);
  });
  it('refuses unknown fields, unknown kinds, bad domains, bad client ids, bad icons', () => {
    expect(providerInputSchema.safeParse({ ...base, surprise: 1 }).success).toBe(false);
    expect(providerInputSchema.safeParse({ ...base, kind: 'facebook' }).success).toBe(false);
    expect(providerInputSchema.safeParse({ ...base, allowed_email_domains: ['not a domain'] }).success).toBe(false);
    expect(providerInputSchema.safeParse({ ...base, client_ids: ['a b'] }).success).toBe(false);
    for (const icon of ['https://evil.example/x.svg', '/assets/../secret.svg', '/assets/x.js', 'javascript:alert(1)']) {
      expect(providerInputSchema.safeParse({ ...base, icon }).success).toBe(false);
    }
    expect(providerInputSchema.safeParse({ ...base, icon: '/assets/brand/corp.svg' }).success).toBe(true);
    expect(providerInputSchema.safeParse({ ...base, tenants: ['not-a-guid'] }).success).toBe(false);
    expect(providerInputSchema.safeParse({ ...base, tenant: 'organizations' }).success).toBe(true);
    expect(providerInputSchema.safeParse({ ...base, token_endpoint_auth_method: 'none' }).success).toBe(false);
  });
  it('the patch accepts null (back to the default) but never a name or kind', () => {
    expect(providerPatchSchema.parse({ hosted_domain: null, scopes: null, order: null })).toEqual({ hosted_domain: null, scopes: null, order: null });
    expect(providerPatchSchema.safeParse({ name: 'x' }).success).toBe(false);
    expect(providerPatchSchema.safeParse({ kind: 'google' }).success).toBe(false);
    expect(providerPatchSchema.safeParse({ client_id: null }).success).toBe(false);
  });
});

describe('organisation-sync rules', () => {
  it('take a claim path, an optional value, a slug or {value} template, a role', () => {
    expect(orgSyncRuleSchema.parse({ claim: 'groups', workspace: 'team-{value}' })).toEqual({ claim: 'groups', workspace: 'team-{value}', role: 'member', create_workspace: false });
    expect(orgSyncRuleSchema.parse({ claim: 'https://example.com/roles', value: 'admin', workspace: 'ops', role: 'admin', create_workspace: true }).role).toBe('admin');
    for (const bad of [
      { claim: 'groups', workspace: 'Team {value}' }, { claim: 'groups', workspace: 'x', role: 'god' },
      { claim: 'a b', workspace: 'x' }, { claim: 'groups', workspace: 'x', extra: 1 }, { claim: 'groups', workspace: '{other}' },
    ]) expect(orgSyncRuleSchema.safeParse(bad).success).toBe(false);
  });
});

describe('upstream URLs', () => {
  it('https everywhere; plain http only for loopback outside production; no credentials, fragments, or query in an issuer', () => {
    expect(upstreamUrlProblem('issuer', 'https://idp.example', 'production')).toBeUndefined();
    expect(upstreamUrlProblem('issuer', 'http://127.0.0.1:4000', 'test')).toBeUndefined();
    expect(upstreamUrlProblem('issuer', 'http://localhost:4000', 'development')).toBeUndefined();
    expect(upstreamUrlProblem('issuer', 'http://127.0.0.1:4000', 'production')).toMatch(/https/);
    expect(upstreamUrlProblem('issuer', 'http://idp.example', 'test')).toMatch(/https/);
    expect(upstreamUrlProblem('issuer', 'https://u:p@idp.example', 'test')).toMatch(/credentials/);
    expect(upstreamUrlProblem('issuer', 'https://idp.example/#x', 'test')).toMatch(/fragment/);
    expect(upstreamUrlProblem('issuer', 'https://idp.example/?a=1', 'test', true)).toMatch(/query/);
    expect(upstreamUrlProblem('token_endpoint', 'https://idp.example/token?a=1', 'test')).toBeUndefined();
    expect(upstreamUrlProblem('issuer', 'javascript:alert(1)', 'test')).toMatch(/https/);
    expect(upstreamUrlProblem('issuer', 'not a url', 'test')).toMatch(/absolute/);
  });
  it('allowed email domains: empty allows any; otherwise the exact domain after the last @', () => {
    expect(emailDomainAllowed({ allowed_email_domains: [] }, 'a@b.example')).toBe(true);
    expect(emailDomainAllowed({ allowed_email_domains: ['corp.example'] }, 'a@CORP.example')).toBe(true);
    expect(emailDomainAllowed({ allowed_email_domains: ['corp.example'] }, 'a@evil.corp.example')).toBe(false);
    expect(emailDomainAllowed({ allowed_email_domains: ['corp.example'] }, '"a@corp.example"@evil.example')).toBe(false);
    expect(emailDomainAllowed({ allowed_email_domains: ['corp.example'] }, 'no-at-sign')).toBe(false);
  });
});

describe('presets', () => {
  it('every kind has a name, an inline SVG icon (nothing fetched), scopes and an auth method', () => {
    for (const kind of PROVIDER_KINDS) {
      const p = PRESETS[kind];
      expect(p.kind).toBe(kind);
      expect(p.icon).toMatch(/^<svg [^>]*aria-hidden="true"/);
      expect(p.icon).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      expect(p.defaultScopes.length).toBeGreaterThan(0);
      if (p.oidc) expect(p.defaultScopes).toContain('openid');
    }
  });
  it('GitHub is OAuth-only with its endpoints; the OpenID presets have issuers', () => {
    expect(PRESETS.github.oidc).toBe(false);
    expect(PRESETS.github.defaultIssuer).toBeNull();
    expect(PRESETS.github.endpoints).toEqual({
      authorization_endpoint: 'https://github.com/login/oauth/authorize', token_endpoint: 'https://github.com/login/oauth/access_token',
      userinfo_endpoint: 'https://api.github.com/user', emails_endpoint: 'https://api.github.com/user/emails',
    });
    expect(PRESETS.google.defaultIssuer).toBe('https://accounts.google.com');
    expect(PRESETS.gitlab.defaultIssuer).toBe('https://gitlab.com');
    expect(microsoftIssuer('organizations')).toBe('https://login.microsoftonline.com/organizations/v2.0');
    expect(isMicrosoftMultiTenant('common')).toBe(true);
    expect(isMicrosoftMultiTenant('72f988bf-86f1-41af-91ab-2d7cd011db47')).toBe(false);
  });
  it('trusts email by default where the provider verifies it: Google, GitHub, gitlab.com; not Entra or a self-hosted GitLab', () => {
    expect(trustEmailByDefault('google', undefined)).toBe(true);
    expect(trustEmailByDefault('github', null)).toBe(true);
    expect(trustEmailByDefault('gitlab', 'https://gitlab.com')).toBe(true);
    expect(trustEmailByDefault('gitlab', 'https://git.corp.example')).toBe(false);
    expect(trustEmailByDefault('microsoft', undefined)).toBe(false);
    expect(trustEmailByDefault('oidc', 'https://idp.example')).toBe(false);
  });
  it('reads the tenant from a multi-tenant Entra issuer, and nothing else', () => {
    const template = 'https://login.microsoftonline.com/{tenantid}/v2.0';
    expect(tenantFromIssuer(template, 'https://login.microsoftonline.com/72F988BF-86F1-41AF-91AB-2D7CD011DB47/v2.0')).toBe('72f988bf-86f1-41af-91ab-2d7cd011db47');
    expect(tenantFromIssuer(template, 'https://login.microsoftonline.com/evil/v2.0')).toBeUndefined();
    expect(tenantFromIssuer(template, 'https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0')).toBeUndefined();
    expect(tenantFromIssuer(template, 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/x')).toBeUndefined();
    expect(tenantFromIssuer('https://login.microsoftonline.com/organizations/v2.0', 'https://login.microsoftonline.com/organizations/v2.0')).toBeUndefined();
  });
});
