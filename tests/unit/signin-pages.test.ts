// The sign-in pages' building blocks (issue 17): where "Start again" leads when a sign-in is gone,
// which app assets are shown, the scope lines' catalog keys, and every sign-in template rendered in
// every shipped language without a missing key.
import { describe, expect, it } from '@jest/globals';
import { startAgainUrl } from '../../src/http/error-page.ts';
import { httpsUrl, appLinks } from '../../src/interactions/app-view.ts';
import { scopeKey, scopeLine } from '../../src/render/scope-lines.ts';
import { forgotUrl } from '../../src/interactions/sign-in.ts';
import { createViews } from '../../src/render/views.ts';
import { LANGUAGES } from '../../src/render/i18n.ts';
import { clientInputSchema } from '../../src/clients/client.schema.ts';

describe('"Start again" after a sign-in is gone', () => {
  it('prefers the app\'s initiate_login_uri, then the origin of its first web redirect URI, else nothing', () => {
    expect(startAgainUrl({ initiate_login_uri: 'https://app.example/login', redirect_uris: ['https://app.example/cb'] })).toBe('https://app.example/login');
    expect(startAgainUrl({ redirect_uris: ['com.example.app:/cb', 'https://app.example/auth/cb'] })).toBe('https://app.example/');
    expect(startAgainUrl({ redirect_uris: ['http://127.0.0.1:8080/cb'] })).toBe('http://127.0.0.1:8080/');
    expect(startAgainUrl({ redirect_uris: ['http://evil.example/cb'] })).toBeUndefined();
    expect(startAgainUrl({ initiate_login_uri: 'http://app.example/login' })).toBeUndefined();
    expect(startAgainUrl({ redirect_uris: ['https://user:pw@app.example/cb'] })).toBeUndefined();
    expect(startAgainUrl(undefined)).toBeUndefined();
  });
});

describe('the app on its sign-in pages', () => {
  it('shows a logo and links over https only', () => {
    expect(httpsUrl('https://cdn.example/logo.png')).toBe('https://cdn.example/logo.png');
    expect(httpsUrl('http://cdn.example/logo.png')).toBeUndefined();
    expect(httpsUrl('javascript:alert(1)')).toBeUndefined();
    expect(appLinks({ logo_uri: 'data:image/png;base64,AAAA', policy_uri: 'https://a.example/p', tos_uri: 7 }))
      .toEqual({ logoUri: undefined, policyUri: 'https://a.example/p', tosUri: undefined });
  });

  it('accepts signup_policy and https logo and policy links in a client registration, nothing else', () => {
    const base = { name: 'A', redirect_uris: ['https://a.example/cb'] };
    expect(clientInputSchema.parse({ ...base, signup_policy: 'closed', logo_uri: 'https://a.example/l.png' })).toMatchObject({ signup_policy: 'closed', logo_uri: 'https://a.example/l.png' });
    expect(clientInputSchema.parse(base).signup_policy).toBeUndefined();
    expect(clientInputSchema.safeParse({ ...base, signup_policy: 'sometimes' }).success).toBe(false);
    expect(clientInputSchema.safeParse({ ...base, logo_uri: 'http://a.example/l.png' }).success).toBe(false);
  });

  it('"Forgot your password?" carries the interaction and the known address', () => {
    expect(forgotUrl('abc', '')).toBe('/account/forgot?interaction=abc');
    expect(forgotUrl('abc', 'a+b@example.test')).toBe('/account/forgot?interaction=abc&email=a%2Bb%40example.test');
  });
});

describe('scope lines', () => {
  const views = createViews({ cache: false });
  it('name each scope by scopes:<scope> with ":" as "_", an unknown one by its name', () => {
    expect(scopeKey('workspace:manage')).toBe('scopes:workspace_manage');
    expect(scopeKey('openid')).toBe('scopes:openid');
    const de = views.i18n.translator('de');
    expect(scopeLine(views.i18n, de, 'openid', 'Gatehouse').description).toBe('Wissen, wer Sie sind');
    expect(scopeLine(views.i18n, de, 'admin', 'Acme ID').description).toContain('Acme ID');
    expect(scopeLine(views.i18n, de, 'billing:read', 'Gatehouse').description).toBe('Die Berechtigung „billing:read“ verwenden');
    expect(scopeLine(views.i18n, de, 'other', 'Gatehouse').description).toContain('„other“');
  });
});

describe('every sign-in page in every language', () => {
  const views = createViews({ cache: false });
  const app = { clientName: 'Acme <Notes>', logoUri: 'https://a.example/l.png', policyUri: 'https://a.example/p', tosUri: 'https://a.example/t', signupPolicy: 'open' };
  const pages: Array<[string, Record<string, unknown>]> = [
    ['login', { app, providers: [{ url: '/x', displayName: 'Bare IdP' }], passwordSignIn: true, email: 'a@example.test', error: 'x', action: '/a', signupUrl: '/s', forgotUrl: '/f', abortUrl: '/b' }],
    ['signup', { app, name: '', email: '', action: '/a', loginUrl: '/l' }],
    ['signup-closed', { app, policy: 'closed', loginUrl: '/l' }],
    ['signup-closed', { app, policy: 'invitation', loginUrl: '/l' }],
    ['consent', { app, accountEmail: 'a@example.test', scopes: [{ name: 'openid', description: 'x' }], changes: [{ name: 'admin', description: 'y' }], action: '/a', abortUrl: '/b' }],
    ['signin-ended', { clientName: 'Acme <Notes>', startAgain: 'https://a.example/' }],
    ['signin-ended', {}],
    ['error', { heading: 'h', message: 'm', error: 'invalid_request' }],
    ['logout', { clientName: 'Acme', host: 'id.example', form: '' }],
    ['logout-success', {}],
    ['mfa', { email: 'a@example.test', totp: true, passkeys: true }],
    ['mfa-setup', { qr: 'data:image/png;base64,AA', secret: 'ABCD' }],
    ['new-password', { email: 'a@example.test', action: '/a', abortUrl: '/b' }],
    ['recovery-codes', { codes: ['a-b'] }],
    ['verify', { email: 'a@example.test', restartUrl: '/r' }],
    ['verify-email', { email: 'a@example.test' }],
    ['invitation', { state: 'signup', role: 'admin', workspaceName: 'W', email: 'a@example.test', signedInAs: 'b@example.test' }],
    ['invitation', { state: 'joined', role: 'member', workspaceName: 'W' }],
    ['workspace-picker', { app, accountEmail: 'a@example.test', workspaces: [{ id: '1', name: 'W', slug: 'w', role: 'owner' }] }],
    ['federation/failed', { title: 't', message: 'm', startAgain: '/s', tryAnother: '/t', abortUrl: '/b' }],
    ['federation/account-exists', { email: 'a@example.test', provider: 'Bare IdP', tryAnother: '/t' }],
  ];
  it.each(LANGUAGES.flatMap((lang) => pages.map(([name, data]) => [lang, name, data] as const)))('%s: %s', (lang, name, data) => {
    const html = views.render(name, { title: 'T', lang, csrf: 'c', ...data });
    expect(html).toContain(`<html lang="${lang}">`);
    expect(html).not.toContain('Acme <Notes>'); // names are escaped where a sentence carries markup
    expect(html).not.toMatch(/signin:|errors:|scopes:/); // no key printed for want of a string
    expect(views.i18n.missing()).toEqual([]);
  });
});
