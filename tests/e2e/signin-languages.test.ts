// The sign-in pages in the person's language, and the ends they used to dead-end on (issue 17):
// login, sign-up, consent and error pages in English, German and French, chosen by the app's
// ui_locales or the browser's Accept-Language; the page a sign-in ends on when its interaction is
// gone (Back after signing in, the link opened in another browser), with a working "Start again";
// the self sign-up policy (GATEHOUSE_SIGNUP and an app's own signup_policy); the app's logo and
// policy links; and axe checks on each page. Screenshots go to tests/artifacts/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { discover } from '../../harness/http-agent.ts';
import { launchBrowser, newContext, screenshot, startRelyingParty, type RelyingParty } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';

const PASSWORD = 'correct horse battery staple';
const LOGO = 'https://logo.example.test/acme.svg';
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2b59c3"/><path d="M9 22 16 8l7 14z" fill="#fff"/></svg>';

let gh: TestServer;
let rp: RelyingParty;
let browser: Browser;
let REDIRECT: string;
/** signup_policy open, with a logo and policy links */
let acme: { client_id: string; client_secret: string };
/** signup_policy closed */
let closedApp: { client_id: string; client_secret: string };
/** no policy of its own: GATEHOUSE_SIGNUP=invitation */
let plainApp: { client_id: string; client_secret: string };
const contexts: BrowserContext[] = [];
const unique = (who: string) => `${who}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`;

beforeAll(async () => {
  [gh, browser, rp] = await Promise.all([startServer({ env: { GATEHOUSE_SIGNUP: 'invitation' } }), launchBrowser(), startRelyingParty()]);
  REDIRECT = `${rp.origin}/cb`;
  const common = ['--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access'];
  [acme, closedApp, plainApp] = await Promise.all([
    gh.cliJson(['clients', 'create', '--name', 'Acme Notes', ...common, '--signup-policy', 'open', '--logo-uri', LOGO,
      '--policy-uri', 'https://acme.example.test/privacy', '--tos-uri', 'https://acme.example.test/terms']),
    gh.cliJson(['clients', 'create', '--name', 'Closed Books', ...common, '--signup-policy', 'closed']),
    gh.cliJson(['clients', 'create', '--name', 'Plain Tasks', ...common]),
  ]);
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await rp?.close();
  const failures = gh?.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
  if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
  await gh?.destroy();
});

async function fresh(acceptLanguage?: string): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  if (acceptLanguage) await context.setExtraHTTPHeaders({ 'Accept-Language': acceptLanguage });
  // the app's logo, as its CDN would serve it
  await context.route(LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
  return context.newPage();
}

async function authorizationUrl(client: { client_id: string; client_secret: string }, extra: Record<string, string> = {}): Promise<string> {
  const config: oidc.Configuration = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile email', state: oidc.randomState(),
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra,
  }).href;
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
const htmlLang = (page: Page) => page.locator('html').getAttribute('lang');

async function newUser(): Promise<string> {
  const email = unique('lang');
  await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--verified']);
  return email;
}

describe('sign-in pages in the person\'s language', () => {
  it('advertises the shipped languages in discovery', async () => {
    const d = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json() as { ui_locales_supported?: string[] };
    expect(d.ui_locales_supported).toEqual(['en', 'de', 'fr']);
  });

  it('renders the sign-in page in the app\'s ui_locales, over the browser\'s Accept-Language, with the app\'s logo and links', async () => {
    const page = await fresh('fr');
    const response = (await page.goto(await authorizationUrl(acme, { ui_locales: 'de-CH en', login_hint: 'hint@example.test' })))!;
    expect(await htmlLang(page)).toBe('de');
    expect(response.headers()['content-language']).toBe('de');
    expect(await heading(page)).toBe('Anmelden');
    expect(await page.locator('.app-lead').textContent()).toBe('weiter zu Acme Notes');
    expect(await page.locator('.app-lead img.app-logo').getAttribute('src')).toBe(LOGO);
    expect(await page.getByRole('link', { name: 'Datenschutzerklärung von Acme Notes' }).getAttribute('href')).toBe('https://acme.example.test/privacy');
    expect(await page.getByRole('link', { name: 'Nutzungsbedingungen von Acme Notes' }).getAttribute('href')).toBe('https://acme.example.test/terms');
    await page.getByLabel('Passwort', { exact: true }).waitFor();
    // "Forgot your password?" carries the interaction and the address the page knows
    const uid = new URL(page.url()).pathname.split('/').pop()!;
    const forgot = new URL(await page.getByRole('link', { name: 'Passwort vergessen?' }).getAttribute('href') ?? '', gh.issuer);
    expect(forgot.pathname).toBe('/account/forgot');
    expect(Object.fromEntries(forgot.searchParams)).toEqual({ interaction: uid, email: 'hint@example.test' });
    expect(await page.getByRole('link', { name: 'Konto erstellen' }).count()).toBe(1); // Acme's own policy: open
    await expectAccessible(page, 'login (de)');
    await screenshot(page, 'signin-lang-login-de');

    // a wrong password: the error in German, and the typed address goes to "forgot"
    await page.getByLabel('E-Mail').fill('typed@example.test');
    await page.getByLabel('Passwort', { exact: true }).fill('wrong password here');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('Diese E-Mail-Adresse und dieses Passwort passen zu keinem Konto.');
    const after = new URL(await page.getByRole('link', { name: 'Passwort vergessen?' }).getAttribute('href') ?? '', gh.issuer);
    expect(after.searchParams.get('email')).toBe('typed@example.test');
  });

  it('follows Accept-Language without ui_locales, and stays English without either', async () => {
    const fr = await fresh('fr-FR,fr;q=0.9,en;q=0.5');
    await fr.goto(await authorizationUrl(acme));
    expect(await htmlLang(fr)).toBe('fr');
    expect(await heading(fr)).toBe('Connexion');
    expect(await fr.getByRole('button', { name: 'Se connecter' }).count()).toBe(1);
    await screenshot(fr, 'signin-lang-login-fr');
    await fr.getByRole('link', { name: 'Créer un compte' }).click();
    expect(await heading(fr)).toBe('Créez votre compte');
    await expectAccessible(fr, 'signup (fr)');

    const en = await fresh();
    await en.goto(await authorizationUrl(acme));
    expect(await htmlLang(en)).toBe('en');
    expect(await heading(en)).toBe('Sign in');
  });

  it('asks for consent in the language asked for, with the scopes in plain words', async () => {
    const email = await newUser();
    const page = await fresh('en');
    await page.goto(await authorizationUrl(acme, { ui_locales: 'de', scope: 'openid profile email offline_access', prompt: 'consent' }));
    await page.getByLabel('E-Mail').fill(email);
    await page.getByLabel('Passwort', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('button', { name: 'Erlauben' }).waitFor();
    expect(await htmlLang(page)).toBe('de');
    expect(await heading(page)).toBe('Acme Notes erlauben?');
    expect(await page.locator('ul.scopes li').allTextContents()).toEqual(expect.arrayContaining([
      'Wissen, wer Sie sind', 'Ihren Namen, Ihr Bild und Ihre Sprache sehen', 'Ihre E-Mail-Adresse sehen',
    ]));
    expect(await page.locator('h1 img.app-logo').getAttribute('src')).toBe(LOGO);
    await expectAccessible(page, 'consent (de)');
    await screenshot(page, 'signin-lang-consent-de');
    await Promise.all([page.waitForURL(`${rp.origin}/**`), page.getByRole('button', { name: 'Erlauben' }).click()]);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
  });

  it('shows the error page in the browser\'s language', async () => {
    const page = await fresh('fr');
    const url = new URL(await authorizationUrl(acme));
    url.searchParams.set('client_id', 'no-such-client');
    const response = (await page.goto(url.href))!;
    expect(response.status()).toBeGreaterThanOrEqual(400);
    expect(await htmlLang(page)).toBe('fr');
    expect(await heading(page)).toBe('Nous n’avons pas pu traiter cette demande');
    expect(await page.locator('.lead').textContent()).toBe('L’application qui vous a envoyé ici n’est pas connue de ce serveur.');
    expect(await page.getByText('Détails techniques').count()).toBe(1);
    await expectAccessible(page, 'error (fr)');
    await screenshot(page, 'signin-lang-error-fr');

    const de = await fresh('de');
    await de.goto(url.href);
    expect(await heading(de)).toBe('Wir konnten diese Anfrage nicht abschließen');
  });
});

describe('a sign-in page that is no longer open', () => {
  it('after signing in, going Back to the sign-in page says what happened and starts again at the app', async () => {
    const email = await newUser();
    const page = await fresh();
    await page.goto(await authorizationUrl(plainApp, { scope: 'openid' }));
    const signInUrl = page.url();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await Promise.all([page.waitForURL(`${rp.origin}/**`), page.getByRole('button', { name: 'Allow' }).click()]);

    const response = (await page.goto(signInUrl))!; // what Back does: the finished interaction's page again
    expect(response.status()).toBe(400);
    expect(await heading(page)).toBe('This sign-in page is no longer open');
    const body = await page.locator('main').textContent();
    expect(body).toContain('Plain Tasks');
    expect(body).not.toMatch(/interaction session|cookie not found|SessionNotFound/i);
    const startAgain = page.getByRole('link', { name: 'Start again' });
    expect(await startAgain.getAttribute('href')).toBe(`${rp.origin}/`);
    expect(await page.getByRole('link', { name: 'Go to your account' }).getAttribute('href')).toBe('/account');
    await expectAccessible(page, 'sign-in ended');
    await screenshot(page, 'signin-ended');
    await Promise.all([page.waitForURL(`${rp.origin}/`), startAgain.click()]);
  });

  it('a sign-in link opened in another browser (no interaction cookie) gets the same page, in its language', async () => {
    const first = await fresh();
    await first.goto(await authorizationUrl(acme));
    const signInUrl = first.url();
    expect(new URL(signInUrl).pathname).toMatch(/^\/interaction\//);

    const other = await fresh('de');
    const response = (await other.goto(signInUrl))!;
    expect(response.status()).toBe(400);
    expect(await htmlLang(other)).toBe('de');
    expect(await heading(other)).toBe('Diese Anmeldeseite ist nicht mehr offen');
    expect(await other.locator('.lead').textContent()).toContain('Acme Notes');
    expect(await other.getByRole('link', { name: 'Von vorn beginnen' }).getAttribute('href')).toBe(`${rp.origin}/`);
    await expectAccessible(other, 'sign-in ended (de)');
    await screenshot(other, 'signin-ended-de');
  });

  it('an interaction nobody knows offers the account pages', async () => {
    const page = await fresh();
    await page.goto(`${gh.issuer}/interaction/unknown-interaction-id`);
    expect(await heading(page)).toBe('This sign-in page is no longer open');
    expect(await page.getByRole('link', { name: 'Start again' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Go to your account' }).getAttribute('href')).toBe('/account');
  });
});

describe('self sign-up policy', () => {
  it('closed for one app: no "Create an account", and the sign-up address explains how to get access', async () => {
    const page = await fresh();
    await page.goto(await authorizationUrl(closedApp));
    expect(await heading(page)).toBe('Sign in');
    expect(await page.getByRole('link', { name: 'Create an account' }).count()).toBe(0);
    const uid = new URL(page.url()).pathname.split('/').pop()!;
    const response = (await page.goto(`${gh.issuer}/interaction/${uid}/signup`))!;
    expect(response.status()).toBe(403);
    expect(await heading(page)).toBe('New accounts cannot be created here');
    expect(await page.locator('main').textContent()).toContain('ask the person who invited you or the app\'s administrator');
    expect(await page.locator('input[name=password]').count()).toBe(0);
    await expectAccessible(page, 'sign-up closed');
    await screenshot(page, 'signin-signup-closed');
    await page.getByRole('link', { name: 'Back to sign in' }).click();
    expect(await heading(page)).toBe('Sign in');

    // in French
    const fr = await fresh('fr');
    await fr.goto(await authorizationUrl(closedApp));
    const frUid = new URL(fr.url()).pathname.split('/').pop()!;
    await fr.goto(`${gh.issuer}/interaction/${frUid}/signup`);
    expect(await heading(fr)).toBe('Il n’est pas possible de créer un compte ici');
  });

  it('invitation only (GATEHOUSE_SIGNUP) for an app without its own policy; an app\'s own "open" overrides it', async () => {
    const page = await fresh('de');
    await page.goto(await authorizationUrl(plainApp));
    expect(await page.getByRole('link', { name: 'Konto erstellen' }).count()).toBe(0);
    const uid = new URL(page.url()).pathname.split('/').pop()!;
    // the form's POST (with a valid CSRF token) is refused too: no account, no mail
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const posted = await page.evaluate(async ({ url, token }) => {
      const r = await fetch(url, { method: 'POST', body: new URLSearchParams({ _csrf: token, email: 'x@example.test', password: 'long enough password' }) });
      return { status: r.status, text: await r.text() };
    }, { url: `${gh.issuer}/interaction/${uid}/signup`, token: csrf });
    expect(posted.status).toBe(403);
    expect(posted.text).toContain('Registrierung nur mit Einladung');
    await page.goto(`${gh.issuer}/interaction/${uid}/signup`);
    expect(await heading(page)).toBe('Registrierung nur mit Einladung');
    expect(await page.locator('.lead').textContent()).toContain('Einladungslink');
    await screenshot(page, 'signin-signup-invitation-de');

    const open = await fresh('de');
    await open.goto(await authorizationUrl(acme));
    await open.getByRole('link', { name: 'Konto erstellen' }).click();
    expect(await heading(open)).toBe('Erstellen Sie Ihr Konto');
  });
});
