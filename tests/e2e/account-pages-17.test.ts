// Issue 17, the account pages: sign-out that ends the session and says so, a cancelled account
// sign-in that is calm, a password reset that keeps the app it came from, second-factor errors on
// their field, recovery codes to copy, download and print, the nav's highlight after a submit, and
// the pages in German and French (Accept-Language, then the user's own language). Chromium at the
// desktop and phone sizes, axe-core on every page.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs, VIEWPORTS } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';
import { waitForMessages } from '../support/outbox.ts';
import { createViews } from '../../src/render/views.ts';
import { scopeWordsFor } from '../../src/accounts/pages/sessions.pages.ts';

const PASSWORD = 'account pages seventeen';
let gh: TestServer;
let browser: Browser;

async function signedIn(email: string, path = '/account'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${gh.issuer}${path}`);
  await signInAs(page, email, PASSWORD);
  await page.waitForURL(`${gh.issuer}${path}`);
  return { context, page };
}
const user = (email: string, ...more: string[]) => gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, ...more]);
const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

beforeAll(async () => {
  gh = await startServer({ host: 'localhost' });
  browser = await launchBrowser();
});
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

describe('signing out and cancelling', () => {
  it('signs out from /account through the provider, lands on the signed-out page, and /account asks to sign in again', async () => {
    await user('leaving@example.test');
    const { context, page } = await signedIn('leaving@example.test');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // the provider asks once (RP-initiated logout as the account client)
    await page.locator('button[name=logout][value=yes]').click();
    await page.waitForURL(`${gh.issuer}/account/signed-out`);
    expect(await heading(page)).toBe('You are signed out');
    expect(await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe('/account');
    expect(await page.locator('.account-nav').count()).toBe(0);
    await expectAccessible(page, 'account-signed-out');
    await screenshot(page, 'account17-signed-out');
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(/\/interaction\//);
    await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('"No, stay signed in" on the provider\'s question leaves the person on their account', async () => {
    await user('staying@example.test');
    const { context, page } = await signedIn('staying@example.test');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('button[form="op.logoutForm"]:not([name=logout])').click();
    await page.waitForURL(/\/(account|interaction\/[^/]+)$/);
    // the account client's own sign-in ended, the person's session did not: no password asked
    await page.goto(`${gh.issuer}/account`);
    await page.waitForURL(`${gh.issuer}/account`);
    expect(await heading(page)).toBe('Your account');
    await context.close();
  });

  it('a cancelled account sign-in shows a calm page with "Sign in" and the home page', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.setViewportSize(VIEWPORTS.phone); // on a phone this time
    await page.goto(`${gh.issuer}/account/security`);
    await page.waitForURL(/\/interaction\//);
    await page.getByRole('button', { name: 'Cancel and return to the app' }).click();
    await page.waitForURL(/\/account\/callback\?/);
    expect(await heading(page)).toBe('You cancelled signing in');
    expect(await page.locator('.status.error').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/account');
    expect(await page.getByRole('link', { name: 'Go to the home page' }).getAttribute('href')).toBe('/');
    await expectAccessible(page, 'account-sign-in-cancelled');
    await screenshot(page, 'account17-cancelled');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/interaction\//);
    await context.close();
  });
});

describe('password reset keeps the app', () => {
  it('prefills the email, goes back to the sign-in, and after the reset continues to the app', async () => {
    await user('forgot17@example.test');
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/account`);
    await page.waitForURL(/\/interaction\/[^/]+$/);
    const uid = new URL(page.url()).pathname.split('/')[2]!;

    await page.goto(`${gh.issuer}/account/forgot?interaction=${uid}&email=forgot17%40example.test`);
    expect(await page.getByLabel('Email').inputValue()).toBe('forgot17@example.test');
    expect(await page.getByRole('link', { name: 'Back to sign in' }).getAttribute('href')).toBe(`/interaction/${uid}`);
    await expectAccessible(page, 'account-forgot');
    await screenshot(page, 'account17-forgot');
    // without an interaction: back to the account's own sign-in
    const plain = await context.newPage();
    await plain.goto(`${gh.issuer}/account/forgot?interaction=%3Cscript%3E`);
    expect(await plain.getByRole('link', { name: 'Back to sign in' }).getAttribute('href')).toBe('/account');
    expect(await plain.locator('input[name=interaction]').count()).toBe(0);
    await plain.close();

    await page.getByRole('button', { name: 'Send reset link' }).click();
    expect(await heading(page)).toBe('Check your email');
    expect(await page.getByRole('link', { name: 'Back to sign in' }).getAttribute('href')).toBe(`/interaction/${uid}`);
    const mail = (await waitForMessages(gh.dataDir, 'forgot17@example.test')).at(-1)!;
    const link = /(http:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]{43})/.exec(mail)![1]!;
    expect(link).not.toContain(uid); // the app is remembered by this browser, never mailed

    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('a new start for seventeen');
    await page.getByLabel('New password again').fill('not the same at all');
    await page.getByRole('button', { name: 'Save password' }).click();
    // the mistake is on its field
    await expect(page.locator('#confirm_password').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#confirm_password-error').textContent()).resolves.toBe('The two passwords are not the same.');
    await expectAccessible(page, 'account-reset-error');
    await screenshot(page, 'account17-reset-error');
    await page.getByLabel('New password', { exact: true }).fill('a new start for seventeen');
    await page.getByLabel('New password again').fill('a new start for seventeen');
    await page.getByRole('button', { name: 'Save password' }).click();
    expect(await heading(page)).toBe('Your password was changed');
    expect(await page.getByRole('link', { name: 'Continue to the app' }).getAttribute('href')).toBe(`/interaction/${uid}`);
    await expectAccessible(page, 'account-reset-done');
    await screenshot(page, 'account17-reset-done');

    await page.getByRole('link', { name: 'Continue to the app' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByLabel('Email').fill('forgot17@example.test');
    await page.getByLabel('Password').fill('a new start for seventeen');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gh.issuer}/account`);
    await context.close();
  });

  it('a reset link opened in another browser offers the account, not an app it cannot know', async () => {
    await user('elsewhere17@example.test');
    const asker = await newContext(browser);
    const p1 = await asker.newPage();
    await p1.goto(`${gh.issuer}/account/forgot?interaction=abcdefghijklmnopqrstu&email=elsewhere17%40example.test`);
    await p1.getByRole('button', { name: 'Send reset link' }).click();
    const link = /(http:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]{43})/.exec((await waitForMessages(gh.dataDir, 'elsewhere17@example.test')).at(-1)!)![1]!;
    const other = await newContext(browser);
    const p2 = await other.newPage();
    await p2.goto(link);
    await p2.getByLabel('New password', { exact: true }).fill('another browser, same person');
    await p2.getByLabel('New password again').fill('another browser, same person');
    await p2.getByRole('button', { name: 'Save password' }).click();
    expect(await heading(p2)).toBe('Your password was changed');
    expect(await p2.getByRole('link', { name: 'Continue to the app' }).count()).toBe(0);
    expect(await p2.getByRole('link', { name: 'Go to your account' }).getAttribute('href')).toBe('/account');
    await asker.close();
    await other.close();
  });
});

describe('second factors and recovery codes', () => {
  it('puts a wrong TOTP code on its field, shows no recovery count before a factor, and offers the codes to copy, download and print', async () => {
    const { generate } = await import('otplib');
    await user('factors17@example.test');
    const { context, page } = await signedIn('factors17@example.test', '/account/security');
    const recovery = page.locator('section[aria-labelledby=recovery-title]');
    expect(await recovery.textContent()).not.toMatch(/\d+ unused/);
    expect(await recovery.getByRole('button', { name: 'Make new codes' }).count()).toBe(0);
    await expectAccessible(page, 'account-security');

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const shown = (await page.locator('code.secret').textContent())!;
    expect(shown).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/); // groups of four
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.waitForURL(`${gh.issuer}/account/security/totp/confirm`);
    const code = page.locator('#code');
    await expect(code.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(code.getAttribute('aria-describedby')).resolves.toContain('code-error');
    await expect(page.locator('#code-error').textContent()).resolves.toContain('That code is not right');
    expect(await page.locator('.alert').count()).toBe(0); // not at the top
    // the nav keeps its highlight after the submit
    await expect(page.locator('.account-nav a[aria-current=page]').textContent()).resolves.toBe('Security');
    await expectAccessible(page, 'account-security-code-error');
    await screenshot(page, 'account17-totp-error');

    await page.getByLabel('Code from the app').fill(await generate({ secret: shown.replace(/\s+/g, '') }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    expect(await heading(page)).toBe('Save your recovery codes');
    const codes = (await page.locator('.recovery-codes li').allTextContents()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    await expect(page.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Print' }).isVisible()).resolves.toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download (.txt)' }).click()]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const text = readFileSync((await download.path())!, 'utf8');
    for (const c of codes) expect(text).toContain(c);
    expect(text).toContain('factors17@example.test');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gh.issuer });
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect(page.locator('#recovery-codes-status').textContent()).resolves.toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));
    await expectAccessible(page, 'account-recovery-codes');
    await screenshot(page, 'account17-recovery-codes');
    // printed: only the codes and their heading
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('.account-nav').isVisible()).resolves.toBe(false);
    await expect(page.locator('.code-actions').isVisible()).resolves.toBe(false);
    await expect(page.locator('.recovery-codes').isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: 'screen' });

    await page.getByRole('link', { name: 'Done' }).click();
    await expect(page.locator('section[aria-labelledby=recovery-title]').textContent()).resolves.toContain('10 unused codes');
    await context.close();
  });

  it('says "1 passkey" and "2 passkeys" (and in German)', () => {
    const views = createViews({ cache: false });
    const data = (n: number, lang = 'en') => ({
      title: 'Security', lang, csrf: 'x', nav: [], viewer: { email: 'a@example.test' }, totp: 'off', remaining: 0, hasSecondFactor: n > 0,
      passkeys: Array.from({ length: n }, (_, i) => ({ id: `k${i}`, name: `Key ${i}`, created_at: new Date('2026-01-02') })),
    });
    expect(views.render('account/security', data(1))).toContain('1 passkey<');
    expect(views.render('account/security', data(2))).toContain('2 passkeys<');
    expect(views.render('account/security', data(1, 'de'))).toContain('1 Passkey<');
    expect(views.render('account/security', data(2, 'fr'))).toContain('2 clés d&#39;accès<');
  });
});

describe('the Apps page', () => {
  it('names scopes in the consent page\'s plain words, an unknown one by its name', () => {
    const views = createViews({ cache: false });
    const words = (lang: 'en' | 'de') => scopeWordsFor(views.i18n.translator(lang), views.i18n.catalog(lang, 'scopes'), 'Gatehouse');
    expect(words('en')('email')).toBe('See your email address');
    expect(words('en')('workspace:manage')).toBe(views.i18n.translator('en')('scopes:workspace_manage'));
    expect(words('en')('billing:read')).toContain('billing:read');
    expect(words('de')('email')).not.toBe('See your email address');
    expect(views.i18n.missing()).toEqual([]);
  });
});

describe('the profile, the nav and the language', () => {
  it('marks a profile error on its field with a sentence, keeps the nav highlight, and shows admins the console', async () => {
    await user('chief17@example.test', '--admin');
    const { context, page } = await signedIn('chief17@example.test');
    await expect(page.getByRole('link', { name: 'Workspaces' }).getAttribute('href')).resolves.toBe('/account/workspaces');
    await expect(page.getByRole('link', { name: 'Admin console' }).getAttribute('href')).resolves.toBe('/admin');
    await page.getByLabel('Picture URL').fill('http://example.com/me.png');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${gh.issuer}/account/profile`);
    const picture = page.getByLabel('Picture URL');
    await expect(picture.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#picture-error').textContent()).resolves.toContain('Use an https:// address for the picture');
    await expect(picture.getAttribute('aria-describedby')).resolves.toContain('picture-error');
    await expect(page.locator('.account-nav a[aria-current=page]').textContent()).resolves.toBe('Profile');
    await expectAccessible(page, 'account-profile-error');
    await screenshot(page, 'account17-profile-error');

    // the password form after a submit: the nav still says where we are, the mistake is on its field
    await page.goto(`${gh.issuer}/account/password`);
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('one new password here');
    await page.getByLabel('New password again').fill('another new password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.locator('.account-nav a[aria-current=page]').textContent()).resolves.toBe('Password');
    await expect(page.locator('#confirm_password-error').textContent()).resolves.toBe('The two new passwords are not the same.');
    await expectAccessible(page, 'account-password-error');
    await context.close();
  });

  it('every account page passes axe, fits a phone, and shows devices as "Chrome on Linux"', async () => {
    await user('tour17@example.test');
    const { context, page } = await signedIn('tour17@example.test');
    for (const [path, name] of [['/account', 'Profile'], ['/account/email', 'Email'], ['/account/password', 'Password'], ['/account/security', 'Security'], ['/account/sessions', 'Sessions'], ['/account/apps', 'Apps'], ['/account/identities', 'Linked sign-ins']] as const) {
      await page.goto(`${gh.issuer}${path}`);
      await expect(page.locator('.account-nav a[aria-current=page]').textContent()).resolves.toBe(name);
      await expectAccessible(page, `account ${path}`);
    }
    // on a phone: the nav and every page fit, no sideways scrolling
    await page.setViewportSize(VIEWPORTS.phone);
    for (const path of ['/account', '/account/email', '/account/password', '/account/security', '/account/sessions', '/account/apps']) {
      await page.goto(`${gh.issuer}${path}`);
      expect({ path, width: await page.evaluate(() => document.documentElement.scrollWidth) }).toEqual({ path, width: VIEWPORTS.phone.width });
      await expect(page.locator('.account-nav').getByRole('button', { name: 'Sign out' }).isVisible()).resolves.toBe(true);
    }
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.goto(`${gh.issuer}/account/sessions`);
    expect(await page.locator('.item-list strong').first().textContent()).toMatch(/^Chrome on Linux$/);
    await screenshot(page, 'account17-sessions');
    await context.close();
  });

  it('speaks German by Accept-Language, and the language chosen in the profile wins', async () => {
    await user('sprache@example.test');
    const { context, page } = await signedIn('sprache@example.test');
    await context.setExtraHTTPHeaders({ 'Accept-Language': 'de-DE,de;q=0.9' });
    await page.goto(`${gh.issuer}/account`);
    expect(await heading(page)).toBe('Ihr Konto');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
    await expect(page.getByRole('button', { name: 'Abmelden' }).isVisible()).resolves.toBe(true);
    await page.goto(`${gh.issuer}/account/security`);
    expect(await heading(page)).toBe('Sicherheit');
    await expectAccessible(page, 'account-security-de');
    await screenshot(page, 'account17-security-de');

    // French chosen in the profile: every page in French, whatever the browser asks for
    await page.goto(`${gh.issuer}/account`);
    await page.getByLabel('Sprache').selectOption('fr');
    await page.getByRole('button', { name: 'Speichern' }).click();
    await page.waitForURL(`${gh.issuer}/account?notice=profile-saved`);
    expect(await heading(page)).toBe('Votre compte');
    await expect(page.locator('.notice').textContent()).resolves.toBe('Profil enregistré.');
    await expect(page.getByLabel('Langue').inputValue()).resolves.toBe('fr');
    await page.goto(`${gh.issuer}/account/sessions`);
    expect(await heading(page)).toBe('Sessions');
    expect(await page.locator('.item-list strong').first().textContent()).toBe('Chrome sous Linux');
    await expectAccessible(page, 'account-sessions-fr');
    await screenshot(page, 'account17-sessions-fr');
    await context.close();
  });
});
