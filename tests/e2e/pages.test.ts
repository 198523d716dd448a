// The hosted pages in a real browser (headless Chromium): sign-up, sign-in, consent, errors and
// logout, their security headers and accessibility basics, and screenshots of each page at a
// desktop and a phone size (tests/artifacts/screenshots/, for a human to look at).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { discover } from '../../harness/http-agent.ts';
import { lastCodeFor, waitForMessages } from '../support/outbox.ts';
import { SCREENSHOT_DIR, VIEWPORTS, launchBrowser, newContext, screenshot, startRelyingParty, type RelyingParty } from '../support/browser.ts';

const PASSWORD = 'correct horse battery staple';
const BAD_LOGIN = 'That email and password do not match an account.';
const PAGES = ['login', 'login-error', 'signup', 'verify', 'verify-error', 'consent', 'error', 'logout', 'logout-success'];

let gh: TestServer;
let rp: RelyingParty;
let browser: Browser;
let REDIRECT: string;
let POST_LOGOUT: string;
let web: { client_id: string; client_secret: string };
let config: oidc.Configuration;
const contexts: BrowserContext[] = [];
const unique = (who: string) => `${who}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`;

beforeAll(async () => {
  rmSync(SCREENSHOT_DIR, { recursive: true, force: true }); // the last test checks this run made them all
  [gh, browser, rp] = await Promise.all([startServer(), launchBrowser(), startRelyingParty()]);
  REDIRECT = `${rp.origin}/cb`;
  POST_LOGOUT = `${rp.origin}/bye`;
  web = await gh.cliJson(['clients', 'create', '--name', 'Acme Notes', '--redirect-uri', REDIRECT,
    '--post-logout-redirect-uri', POST_LOGOUT, '--scopes', 'openid profile email']);
  config = await discover({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await rp?.close();
  const failures = gh?.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
  if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
  await gh?.destroy();
});

async function fresh(): Promise<{ page: Page }> {
  const context = await newContext(browser);
  contexts.push(context);
  return { page: await context.newPage() };
}

/** An authorization request as openid-client builds it, with what the token exchange needs later. */
async function authorization(extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile email', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url: url.href, verifier, state, nonce };
}

/** Clicks a submit button and returns the response to the form POST (before any redirect). */
async function submit(page: Page, button: string): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(gh.issuer)),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  await page.waitForLoadState();
  return response;
}

async function clickAndLeave(page: Page, button: string): Promise<URL> {
  await Promise.all([page.waitForURL(`${rp.origin}/**`), page.getByRole('button', { name: button, exact: true }).click()]);
  return new URL(page.url());
}

async function signIn(page: Page, email: string, password: string): Promise<Response> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  return submit(page, 'Sign in');
}

/** From the app's authorization request to its redirect URI, through the password form and consent. */
async function signInToApp(page: Page, email: string): Promise<URL> {
  await page.goto((await authorization()).url);
  await signIn(page, email, PASSWORD);
  return clickAndLeave(page, 'Allow');
}

/** Names of visible inputs with neither a <label> nor an aria-label. */
const unlabelled = (page: Page) => page.locator('input:not([type=hidden])').evaluateAll((inputs) =>
  (inputs as HTMLInputElement[]).filter((i) => i.labels?.length === 0 && !i.getAttribute('aria-label')).map((i) => i.name));
const autocomplete = (page: Page, label: string) => page.getByLabel(label, { exact: true }).getAttribute('autocomplete');
/** The type of each form's _csrf field: every form should say "hidden". */
const csrfFields = async (page: Page) => new Set(await page.locator('form').evaluateAll((forms) =>
  (forms as HTMLFormElement[]).map((f) => (f.elements.namedItem('_csrf') as HTMLInputElement | null)?.type ?? 'missing')));

describe('hosted pages in Chromium', () => {
  it('signs up with an emailed code, consents, and the app gets a verified email', async () => {
    const { page } = await fresh();
    const email = unique('grace');
    const auth = await authorization();
    await page.goto(auth.url);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await screenshot(page, 'login');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/signup$/);
    await page.getByLabel('Name').fill('Grace Hopper');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, 'signup');
    expect((await submit(page, 'Continue')).status()).toBe(303);
    await page.waitForURL(/\/verify$/);
    expect(await page.locator('.lead').textContent()).toContain(email);
    expect(await autocomplete(page, 'Code')).toBe('one-time-code');
    expect(await page.getByLabel('Code').getAttribute('inputmode')).toBe('numeric');
    expect(await unlabelled(page)).toEqual([]);
    expect(await csrfFields(page)).toEqual(new Set(['hidden']));
    await screenshot(page, 'verify');

    await waitForMessages(gh.dataDir, email); // the code is mailed after the answer
    const code = lastCodeFor(gh.dataDir, email);
    expect(code).toMatch(/^\d{6}$/);
    await page.getByLabel('Code').fill(code === '000000' ? '111111' : '000000');
    expect((await submit(page, 'Verify and continue')).status()).toBe(400);
    expect(await page.getByRole('alert').textContent()).toBe('That code is not right or has expired.');
    expect(await page.getByLabel('Code').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'verify-error');
    await page.getByLabel('Code').fill(code!);
    await submit(page, 'Verify and continue');
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Allow Acme Notes?');
    expect(await page.locator('.scopes li').allTextContents()).toEqual(
      expect.arrayContaining(['See your email address', 'See your name, picture and language']));
    await screenshot(page, 'consent');

    const callback = await clickAndLeave(page, 'Allow');
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(auth.state);
    expect(callback.searchParams.get('iss')).toBe(gh.issuer);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims.email).toBe(email);
    expect(claims.email_verified).toBe(true);
    expect(claims.name).toBe('Grace Hopper');
  });

  it('rejects a wrong password with the same message as an unknown email, then signs in; Deny returns access_denied', async () => {
    const email = unique('ada');
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--name', 'Ada Lovelace']);
    const { page } = await fresh();
    const auth = await authorization();
    await page.goto(auth.url);

    const unknown = await signIn(page, unique('nobody'), PASSWORD);
    expect(unknown.status()).toBe(401);
    const unknownText = await page.getByRole('alert').textContent();

    const wrong = await signIn(page, email, 'not the password at all');
    expect(wrong.status()).toBe(401);
    expect(await page.getByRole('alert').textContent()).toBe(unknownText);
    expect(unknownText).toBe(BAD_LOGIN);
    expect(await page.getByLabel('Email').inputValue()).toBe(email); // kept, so only the password is retyped
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    await screenshot(page, 'login-error');

    await signIn(page, email, PASSWORD);
    await page.getByRole('button', { name: 'Deny' }).waitFor();
    expect(await page.locator('.lead').textContent()).toContain(email);
    const callback = await clickAndLeave(page, 'Deny');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(auth.state);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('marks fields for password managers, labels every input, sends the security headers and checks CSRF', async () => {
    const { page } = await fresh();
    const response = (await page.goto((await authorization()).url))!;
    const headers = response.headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['x-frame-options']).toBe('DENY');

    expect(await autocomplete(page, 'Email')).toBe('username');
    expect(await autocomplete(page, 'Password')).toBe('current-password');
    expect(await unlabelled(page)).toEqual([]);
    expect(await csrfFields(page)).toEqual(new Set(['hidden']));

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/signup$/);
    expect(await autocomplete(page, 'Email')).toBe('username');
    expect(await autocomplete(page, 'Password')).toBe('new-password');
    expect(await autocomplete(page, 'Name')).toBe('name');
    expect(await unlabelled(page)).toEqual([]);
    expect(await csrfFields(page)).toEqual(new Set(['hidden']));
    // (the verify page is checked in the sign-up test: each sign-up spends the per-IP sign-up budget)

    // a forged form: the right cookie, the wrong token
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    await page.locator('form:has(#password) input[name=_csrf]').evaluate((el) => { (el as HTMLInputElement).value = 'forged'; });
    const forged = await signIn(page, unique('csrf'), PASSWORD);
    expect(forged.status()).toBe(403);
    expect(forged.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('We could not do that');
    expect(await page.locator('.lead').textContent()).toContain('reload the page');
    await screenshot(page, 'error-csrf');
  });

  it('shows a readable error page, and redirects nowhere, for an unknown client or an unregistered redirect_uri', async () => {
    const { page } = await fresh();
    const before = rp.hits.length;
    const good = new URL((await authorization()).url);

    const unknownClient = new URL(good);
    unknownClient.searchParams.set('client_id', 'no-such-client');
    const r1 = (await page.goto(unknownClient.href))!;
    expect(r1.status()).toBeGreaterThanOrEqual(400);
    expect(r1.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.url().startsWith(gh.issuer)).toBe(true);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('We could not complete this request');
    expect(await page.locator('.lead').textContent()).toContain('not known to this server');
    await screenshot(page, 'error');

    const mismatch = new URL(good);
    mismatch.searchParams.set('redirect_uri', `${rp.origin}/evil`);
    const r2 = (await page.goto(mismatch.href))!;
    expect(r2.status()).toBe(400);
    expect(page.url().startsWith(gh.issuer)).toBe(true);
    expect(await page.locator('.lead').textContent()).toContain('has not registered');
    await page.getByText('Technical details').click();
    expect(await page.locator('.technical code').textContent()).toBe('invalid_redirect_uri');
    expect(rp.hits.slice(before)).toEqual([]);
  });

  it('asks before signing out, then shows the signed-out page or returns to the registered post-logout URI', async () => {
    const email = unique('katherine');
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--name', 'Katherine Johnson']);
    const { page } = await fresh();
    const endSession = (params: Record<string, string>) => `${gh.issuer}/session/end?${new URLSearchParams({ client_id: web.client_id, ...params })}`;

    expect((await signInToApp(page, email)).searchParams.get('code')).toBeTruthy();
    const shown = (await page.goto(endSession({})))!;
    expect(shown.headers()['x-frame-options']).toBe('DENY');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign out?');
    expect(await page.locator('.lead').textContent()).toContain('Acme Notes');
    await submit(page, 'Yes, sign me out');
    await page.waitForURL(/\/session\/end\/success/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You are signed out');
    await screenshot(page, 'logout-success');

    // the session is gone: the app's next request asks for the password again
    expect((await signInToApp(page, email)).searchParams.get('code')).toBeTruthy();
    await page.goto(endSession({ post_logout_redirect_uri: POST_LOGOUT, state: 'bye-state' }));
    await page.getByRole('button', { name: 'No, stay signed in' }).waitFor();
    await screenshot(page, 'logout');
    const back = await clickAndLeave(page, 'Yes, sign me out');
    expect(back.origin + back.pathname).toBe(POST_LOGOUT);
    expect(back.searchParams.get('state')).toBe('bye-state');
  });

  it('saved a desktop and a phone screenshot of every page', () => {
    const missing = PAGES.flatMap((p) => Object.keys(VIEWPORTS).map((v) => `${p}-${v}.png`))
      .filter((f) => !existsSync(join(SCREENSHOT_DIR, f)));
    expect(missing).toEqual([]);
  });
});
