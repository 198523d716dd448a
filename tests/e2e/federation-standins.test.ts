// Signing in through upstream providers against code we did not write and local stand-ins:
// a bare oidc-provider as the upstream (and configured as Google and as an Entra tenant would be),
// a local stand-in that speaks GitHub's documented OAuth app API, openid-client as the app. Also:
// apps without passwords (password_sign_in: false), require_mfa with and without trust_mfa,
// home-realm discovery, link mode from /account, the device flow via an upstream provider, an
// interaction gone by the callback, an `iss` from elsewhere, an upstream that never answers — and
// the pages in Chromium (screenshots at 1280 and 390).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { discover, formAction, type Page } from '../../harness/http-agent.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, startRelyingParty, type RelyingParty } from '../support/browser.ts';
import { freshTotp, secretOn } from '../support/account.ts';
import { OriginAgent, onDatabase, registerProvider } from '../support/upstream.ts';
import { startBareOidcProvider, startGitHubStandIn, type BareOidc, type GitHubStandIn } from '../support/upstream-standins.ts';

const REDIRECT = 'http://127.0.0.1:7998/cb';
const PASSWORD = 'a perfectly fine pass phrase';
const TENANT = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const OTHER_TENANT = '9a7c1d2e-1111-4222-8333-944455556666';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let gh: TestServer;
let bare: BareOidc;
let google: BareOidc;
let entra: BareOidc;
let github: GitHubStandIn;
let app: oidc.Configuration;
let mfaApp: oidc.Configuration;
let noPasswordApp: oidc.Configuration;
let browser: Browser;
let rp: RelyingParty;

const callback = (name: string) => `${gh.issuer}/providers/${name}/callback`;
const auditOf = (type: string) => onDatabase(gh, (k) => k('audit_events').where({ type }).orderBy('at').select('*'));
const identityOf = (provider: string, subject: string) => onDatabase(gh, (k) => k('user_identities').where({ provider, subject }).first());

async function authorize(agent: OriginAgent, config = app, extra: Record<string, string> = {}): Promise<{ page: Page; verifier: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email profile', state: 'st', nonce: 'n1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { page: await agent.go(url.href, {}, REDIRECT), verifier };
}

const buttonFor = (html: string, name: string) => new RegExp(`href="([^"]*upstream/${name})"`).exec(html)?.[1]?.replaceAll('&#x2F;', '/');

/** The app's sign-in page, then its "Continue with …" button (the stand-ins sign in at once). */
async function viaButton(agent: OriginAgent, name: string, config = app) {
  const { page, verifier } = await authorize(agent, config);
  const href = buttonFor(page.html, name);
  expect(href).toBeDefined();
  return { page: await consented(agent, await agent.go(new URL(href!, page.url).href, {}, REDIRECT)), verifier };
}

/** Gatehouse's own consent page, when the app asks for it the first time. */
async function consented(agent: OriginAgent, page: Page): Promise<Page> {
  return page.html.includes('/confirm') ? agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT) : page;
}

async function tokensFor(page: Page, verifier: string, config = app) {
  if (!page.url.startsWith(REDIRECT)) throw new Error(`not back at the app: ${page.status} ${page.url}\n${page.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  return oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n1' });
}

async function appFor(name: string, extra: string[] = []) {
  const c = await gh.cliJson(['clients', 'create', '--name', name, '--redirect-uri', REDIRECT, '--scopes', 'openid email profile', ...extra]);
  return discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
}

beforeAll(async () => {
  gh = await startServer();
  bare = await startBareOidcProvider({ callbacks: () => [callback('bare'), callback('bare-mfa')] });
  google = await startBareOidcProvider({ callbacks: () => [callback('google')] });
  entra = await startBareOidcProvider({ path: `/${TENANT}/v2.0`, callbacks: () => [callback('entra')] });
  github = await startGitHubStandIn();
  browser = await launchBrowser();
  rp = await startRelyingParty();
  app = await appFor('Team App');
  mfaApp = await appFor('Payroll', ['--require-mfa']);
  noPasswordApp = await appFor('Corp Only', ['--no-password-sign-in']);
  await registerProvider(gh, {
    name: 'bare', kind: 'oidc', display_name: 'Bare IdP', issuer: bare.issuer, client_id: bare.clientId, client_secret: bare.clientSecret,
    allow_signup: true, trust_email_verified: true, home_realm_domains: ['bare.test'],
  });
  await registerProvider(gh, {
    name: 'bare-mfa', kind: 'oidc', display_name: 'Bare IdP (MFA trusted)', issuer: bare.issuer, client_id: bare.clientId, client_secret: bare.clientSecret,
    allow_signup: true, trust_email_verified: true, trust_mfa: true,
  });
  await registerProvider(gh, {
    name: 'google', kind: 'google', issuer: google.issuer, client_id: google.clientId, client_secret: google.clientSecret,
    allow_signup: true, trust_email_verified: true, hosted_domain: 'corp.test',
  });
  await registerProvider(gh, {
    name: 'entra', kind: 'microsoft', issuer: entra.issuer, tenant: TENANT, tenants: [OTHER_TENANT],
    client_id: entra.clientId, client_secret: entra.clientSecret, allow_signup: true, trust_email_verified: true,
  });
  await registerProvider(gh, {
    name: 'github', kind: 'github', client_id: github.clientId, client_secret: github.clientSecret, endpoints: github.endpoints,
    allow_signup: true, trust_email_verified: true,
  });
  bare.accounts.set('u-ann', { email: 'ann@bare.test', email_verified: true, name: 'Ann Upstream' });
  bare.accounts.set('u-max', { email: 'max@bare.test', email_verified: true, name: 'Max Upstream' });
  bare.accounts.set('u-mia', { email: 'mia@bare.test', email_verified: true, name: 'Mia Upstream' });
  bare.accounts.set('u-lou', { email: 'lou.upstream@bare.test', email_verified: true });
  bare.accounts.set('u-dev', { email: 'dev@bare.test', email_verified: true });
  bare.accounts.set('u-gone', { email: 'gone@bare.test', email_verified: true });
  google.accounts.set('g-1', { email: 'gina@corp.test', email_verified: true, hd: 'corp.test', name: 'Gina' });
  google.accounts.set('g-2', { email: 'gus@gmail.test', email_verified: true, name: 'Gus' });
  entra.accounts.set('e-1', { email: 'erin@contoso.test', email_verified: true, tid: TENANT, name: 'Erin' });
  github.users.set('octo', { id: 583231, login: 'octo', name: 'Octo Cat', emails: [{ email: 'octo@gh.test', primary: true, verified: true }, { email: 'octo-old@gh.test', primary: false, verified: false }] });
  github.users.set('noverify', { id: 99, login: 'noverify', emails: [{ email: 'nv@gh.test', primary: true, verified: false }, { email: 'nv2@gh.test', primary: false, verified: true }] });
  github.users.set('taken', { id: 1234, login: 'taken', emails: [{ email: 'taken@gh.test', primary: true, verified: true }] });
}, 180_000);

afterAll(async () => {
  await rp?.close(); await browser?.close();
  await bare?.close(); await google?.close(); await entra?.close(); await github?.close();
  await gh?.destroy();
});

describe('a bare oidc-provider as the upstream', () => {
  it('provisions on the first sign-in and finds the same account on the second', async () => {
    bare.next = { accountId: 'u-ann' };
    const a = await viaButton(new OriginAgent(), 'bare');
    const first = (await tokensFor(a.page, a.verifier)).claims()!;
    expect(first).toMatchObject({ email: 'ann@bare.test', email_verified: true, name: 'Ann Upstream', amr: ['fed'] });
    const b = await viaButton(new OriginAgent(), 'bare');
    expect((await tokensFor(b.page, b.verifier)).claims()!.sub).toBe(first.sub);
    expect((await identityOf('bare', 'u-ann')).user_id).toBe(first.sub);
    // the authorization request was a code flow with PKCE S256, state and nonce
    const q = bare.authorizeQueries.at(-1)!;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('state')).toBeTruthy();
    expect(q.get('nonce')).toBeTruthy();
  }, 60_000);

  it('require_mfa: the upstream\'s amr is not believed without trust_mfa — the user\'s own second factor is asked', async () => {
    bare.next = { accountId: 'u-max', amr: ['pwd', 'mfa'] };
    const agent = new OriginAgent();
    const a = await viaButton(agent, 'bare', mfaApp);
    // no second factor here yet: enrol one on the way (never "the upstream said so")
    expect(a.page.url).toContain('/mfa-setup');
    const secret = secretOn(a.page.html);
    let page = await agent.submit(a.page, formAction(a.page.html, '/mfa-setup'), { code: await freshTotp(secret) }, REDIRECT);
    // the recovery codes, then on to the app
    page = await consented(agent, await agent.submit(page, formAction(page.html, '/mfa-setup/done'), {}, REDIRECT));
    const claims = (await tokensFor(page, a.verifier, mfaApp)).claims()!;
    expect(claims.acr).toBe('mfa');
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));
  }, 60_000);

  it('require_mfa: with trust_mfa the upstream\'s amr=mfa meets it, and amr says how', async () => {
    bare.next = { accountId: 'u-mia', amr: ['pwd', 'mfa'] };
    const a = await viaButton(new OriginAgent(), 'bare-mfa', mfaApp);
    const claims = (await tokensFor(a.page, a.verifier, mfaApp)).claims()!;
    expect(claims.acr).toBe('mfa');
    expect(claims.amr).toEqual(['fed', 'mfa']);
    // and without a second factor upstream, trust_mfa does not wave it through
    bare.next = { accountId: 'u-lou', amr: ['pwd'] };
    const b = await viaButton(new OriginAgent(), 'bare-mfa', mfaApp);
    expect(b.page.url).toContain('/mfa-setup');
  }, 60_000);

  it('home-realm discovery: an email at a provider\'s domain is sent to that provider', async () => {
    const agent = new OriginAgent();
    const { page } = await authorize(agent);
    const sent = await agent.submit(page, formAction(page.html, '/login'), { email: 'someone@Bare.test', password: '' }, bare.issuer);
    expect(sent.url.startsWith(`${bare.issuer}/auth`)).toBe(true);
    // any other domain gets the password check as usual
    const normal = await agent.submit(page, formAction(page.html, '/login'), { email: 'someone@elsewhere.test', password: 'wrong password here' }, REDIRECT);
    expect(normal.status).toBe(401);
  }, 60_000);

  it('link mode from /account: the signed-in user links a provider and the identity lands on that account', async () => {
    const lou = await gh.cliJson(['users', 'create', '--email', 'lou@example.test', '--password', PASSWORD, '--verified']);
    bare.next = { accountId: 'u-lou' };
    const agent = new OriginAgent();
    let page = await agent.go(`${gh.issuer}/providers/bare/start?mode=link`);
    // not signed in: the account sign-in first, then the trip upstream
    expect(page.html).toContain('autocomplete="current-password"');
    page = await agent.submit(page, formAction(page.html, '/login'), { email: 'lou@example.test', password: PASSWORD });
    if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {});
    if (!page.url.includes('linked=')) page = await agent.go(`${gh.issuer}/providers/bare/start?mode=link`);
    expect(new URL(page.url).pathname).toBe('/account');
    expect(new URL(page.url).searchParams.get('linked')).toBe('bare');
    expect((await identityOf('bare', 'u-lou')).user_id).toBe(lou.id);
    expect((await auditOf('identity.linked')).some((e) => e.subject_id === lou.id && e.data?.how === 'account')).toBe(true);
  }, 60_000);

  it('the device flow via an upstream provider: openid-client polls, the browser completes at the upstream', async () => {
    const c = await gh.cliJson(['clients', 'create', '--name', 'Team CLI', '--public', '--grant-types', 'device_code,refresh_token', '--scopes', 'openid email']);
    const cli = await oidc.discovery(new URL(gh.issuer), c.client_id, {}, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const handle = await oidc.initiateDeviceAuthorization(cli, { scope: 'openid email' });
    bare.next = { accountId: 'u-dev' };
    const agent = new OriginAgent();
    const confirmPage = await agent.go(handle.verification_uri_complete!);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmPage.html)?.[1] ?? '';
    const login = await agent.go(`${gh.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf, user_code: handle.user_code, confirm: 'yes' }), headers: FORM });
    expect(login.url).toContain('/interaction/');
    const href = buttonFor(login.html, 'bare');
    expect(href).toBeDefined();
    const done = await agent.go(new URL(href!, login.url).href);
    expect(done.status).toBe(200);
    const tokens = await oidc.pollDeviceAuthorizationGrant(cli, handle);
    const claims = tokens.claims()!;
    expect(claims.email).toBe('dev@bare.test');
    expect(claims.amr).toEqual(['fed']);
  }, 90_000);

  it('an interaction gone by the time the upstream answers: a readable page that says to start again', async () => {
    bare.next = { accountId: 'u-gone' };
    const agent = new OriginAgent();
    const { page } = await authorize(agent);
    const atCallback = await agent.go(new URL(buttonFor(page.html, 'bare')!, page.url).href, {}, callback('bare'));
    // the sign-in's own cookies are gone (expired, or another tab finished it)
    for (const name of [...agent.jar(gh.issuer).cookies.keys()]) if (name.startsWith('gh_interaction') || name.startsWith('gh_resume')) agent.jar(gh.issuer).cookies.delete(name);
    const gone = await agent.go(atCallback.url, {}, REDIRECT);
    expect(gone.status).toBe(400);
    expect(gone.html).toContain('This sign-in has expired');
    expect(gone.html).toMatch(/start again/i);
    expect(await onDatabase(gh, (k) => k('users').where({ email: 'gone@bare.test' }).first())).toBeUndefined();
  }, 60_000);
});

describe('failures at the callback', () => {
  it('an answer whose iss (RFC 9207) names another issuer is refused: a page, an audit event, no account', async () => {
    bare.next = { accountId: 'u-gone' };
    const agent = new OriginAgent();
    const { page } = await authorize(agent);
    const atUpstream = await agent.go(new URL(buttonFor(page.html, 'bare')!, page.url).href, {}, bare.issuer);
    const state = new URL(atUpstream.url).searchParams.get('state')!;
    const forged = await agent.go(`${callback('bare')}?code=abc&state=${state}&iss=${encodeURIComponent(google.issuer)}`, {}, REDIRECT);
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('did not come from Bare IdP as registered');
    expect(forged.html).toContain('Start again');
    expect((await auditOf('signin.upstream_failed')).some((e) => e.data?.provider === 'bare' && e.data?.reason === 'iss_mismatch')).toBe(true);
    expect(await onDatabase(gh, (k) => k('users').where({ email: 'gone@bare.test' }).first())).toBeUndefined();
  }, 60_000);

  it('an upstream that accepts the connection and never answers: given up after the timeout, a 503 page', async () => {
    const silent = createServer(() => { /* never answers */ });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      await registerProvider(gh, {
        name: 'slow', kind: 'oidc', display_name: 'Slow IdP', issuer: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        client_id: 'abc', client_secret: 'not-used', allow_signup: true,
      });
      const started = Date.now();
      const { page } = await viaButton(new OriginAgent(), 'slow');
      expect(page.status).toBe(503);
      expect(page.html).toContain('Slow IdP is not answering');
      expect(page.html).toContain('Try another way');
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
      expect((await auditOf('signin.upstream_failed')).some((e) => e.data?.provider === 'slow' && e.data?.reason === 'unavailable')).toBe(true);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  }, 60_000);
});

describe('an app without passwords (password_sign_in: false)', () => {
  it('shows only the providers, and refuses a password and a sign-up posted anyway', async () => {
    await gh.cliJson(['users', 'create', '--email', 'pat@example.test', '--password', PASSWORD, '--verified']);
    const agent = new OriginAgent();
    const { page } = await authorize(agent, noPasswordApp);
    expect(page.html).toContain('Continue with Bare IdP');
    expect(page.html).not.toContain('autocomplete="current-password"');
    expect(page.html).not.toContain('Create an account');
    const action = `/interaction/${/interaction\/([^/"]+)/.exec(page.url)![1]}/login`;
    const refused = await agent.submit(page, action, { email: 'pat@example.test', password: PASSWORD }, REDIRECT);
    expect(refused.status).toBe(403);
    expect(refused.url.startsWith(REDIRECT)).toBe(false);
    expect(refused.html).toContain('does not accept passwords');
    const signup = await agent.submit(page, action.replace(/login$/, 'signup'), { name: 'Pat', email: 'new@example.test', password: PASSWORD }, REDIRECT);
    expect(signup.status).toBe(403);
    // the setting round-trips through the clients CLI
    const shown = await gh.cliJson(['clients', 'show', noPasswordApp.clientMetadata().client_id]);
    expect(shown.password_sign_in).toBe(false);
  }, 60_000);
});

describe('local stand-ins for the presets', () => {
  it('Google (local stand-in, a bare oidc-provider with hd): hd is asked for and checked', async () => {
    google.next = { accountId: 'g-1' };
    const a = await viaButton(new OriginAgent(), 'google');
    expect((await tokensFor(a.page, a.verifier)).claims()!.email).toBe('gina@corp.test');
    const q = google.authorizeQueries.at(-1)!;
    expect(q.get('hd')).toBe('corp.test');
    expect(q.get('prompt')).toBe('select_account');
    // an account outside the Workspace domain is refused, whatever the upstream let through
    google.next = { accountId: 'g-2' };
    const b = await viaButton(new OriginAgent(), 'google');
    expect(b.page.status).toBe(403);
    expect(b.page.html).toContain('Try another way');
    expect(await onDatabase(gh, (k) => k('users').where({ email: 'gus@gmail.test' }).first())).toBeUndefined();
    expect((await auditOf('signin.upstream_failed')).some((e) => e.data?.reason === 'hosted_domain')).toBe(true);
  }, 60_000);

  it('Microsoft Entra ID (local stand-in: issuer with the tenant id): a tenant not allowed is refused, an allowed one signs in', async () => {
    entra.next = { accountId: 'e-1' };
    const a = await viaButton(new OriginAgent(), 'entra');
    expect(a.page.status).toBe(403);
    expect(a.page.html).toContain('organisation is not one that may sign in here');
    expect((await auditOf('signin.upstream_failed')).some((e) => e.data?.provider === 'entra' && e.data?.reason === 'tenant_not_allowed')).toBe(true);
    await registerProvider(gh, {
      name: 'entra', kind: 'microsoft', issuer: entra.issuer, tenant: TENANT, tenants: [TENANT],
      client_id: entra.clientId, client_secret: entra.clientSecret, allow_signup: true, trust_email_verified: true,
    });
    const b = await viaButton(new OriginAgent(), 'entra');
    expect((await tokensFor(b.page, b.verifier)).claims()!.email).toBe('erin@contoso.test');
  }, 60_000);

  it('GitHub (local stand-in for its OAuth app, user and emails APIs): the verified primary address, or a readable refusal', async () => {
    github.next = 'octo';
    const a = await viaButton(new OriginAgent(), 'github');
    const claims = (await tokensFor(a.page, a.verifier)).claims()!;
    expect(claims.email).toBe('octo@gh.test');
    expect(claims.name).toBe('Octo Cat');
    expect((await identityOf('github', '583231')).user_id).toBe(claims.sub);
    // only an unverified primary (a verified secondary does not count): no account, a page
    github.next = 'noverify';
    const b = await viaButton(new OriginAgent(), 'github');
    expect(b.page.status).toBe(403);
    expect(b.page.html).toContain('no verified primary email address');
    expect(b.page.html).toContain('Try another way');
    expect(await onDatabase(gh, (k) => k('users').whereIn('email', ['nv@gh.test', 'nv2@gh.test']).first())).toBeUndefined();
  }, 60_000);
});

describe('in Chromium', () => {
  it('signs in with the GitHub local stand-in end to end; the pages at 1280 and 390', async () => {
    const c = await gh.cliJson(['clients', 'create', '--name', 'Browser App', '--redirect-uri', `${rp.origin}/cb`, '--scopes', 'openid email profile']);
    const config = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: `${rp.origin}/cb` });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${rp.origin}/cb`, scope: 'openid email profile', state: 'st', nonce: 'n1',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const context = await newContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(url.href);
      await expect(page.getByRole('link', { name: 'Continue with GitHub' }).isVisible()).resolves.toBe(true);
      await screenshot(page, 'federation-sign-in');
      github.next = 'octo';
      await page.getByRole('link', { name: 'Continue with GitHub' }).click();
      // back from the stand-in, signed in: Gatehouse's consent for this app, then the app
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(rp.origin));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n1' });
      expect(tokens.claims()!.email).toBe('octo@gh.test');

      // the failure page: a GitHub account without a verified primary address
      await context.clearCookies();
      await page.goto(url.href);
      github.next = 'noverify';
      await page.getByRole('link', { name: 'Continue with GitHub' }).click();
      await page.getByRole('heading', { name: 'No verified email' }).waitFor();
      await screenshot(page, 'federation-failed');
      await page.getByRole('link', { name: 'Try another way' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();

      // the account-exists page: an unverified local account has the address
      await gh.cliJson(['users', 'create', '--email', 'taken@gh.test', '--password', 'someone else typed this']);
      github.next = 'taken';
      await page.getByRole('link', { name: 'Continue with GitHub' }).click();
      await page.getByRole('heading', { name: 'An account with this email already exists' }).waitFor();
      await screenshot(page, 'federation-account-exists');

      // cancelled upstream: start again, try another way, or tell the app (access_denied)
      await page.getByRole('link', { name: 'Try another way' }).click();
      bare.next = { accountId: '', deny: true };
      await page.getByRole('link', { name: 'Continue with Bare IdP', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign-in cancelled' }).waitFor();
      await expect(page.getByRole('link', { name: 'Start again' }).isVisible()).resolves.toBe(true);
      await screenshot(page, 'federation-cancelled');
      await page.getByRole('button', { name: 'Return to the app without signing in' }).click();
      await page.waitForURL((u) => u.href.startsWith(rp.origin));
      expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    } finally {
      await context.close();
    }
  }, 90_000);
});
