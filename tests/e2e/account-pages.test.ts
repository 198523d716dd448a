// The account pages in headless Chromium: sign in, add a passkey with a virtual authenticator,
// then sign in again with the passkey as the second step. Screenshots of each page.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';

const PASSWORD = 'pages pass phrase 77';
let gh: TestServer;
let browser: Browser;

const signInOn = (page: Page, email: string) => signInAs(page, email, PASSWORD);

beforeAll(async () => {
  gh = await startServer({ host: 'localhost' }); // WebAuthn needs a domain, not an IP
  browser = await launchBrowser();
  await gh.cliJson(['users', 'create', '--email', 'keys@example.test', '--password', PASSWORD, '--name', 'Passkey Person']);
});
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

describe('account pages in Chromium', () => {
  it('adds a passkey and uses it as the second step at the next sign-in', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } as const;
    const { authenticatorId: first } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });

    await page.goto(`${gh.issuer}/account`);
    await signInOn(page, 'keys@example.test');
    await page.waitForURL(`${gh.issuer}/account`);
    await expect(page.getByRole('heading', { name: 'Your account' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'account-profile');

    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByLabel('Name for a new passkey').fill('Test key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(/notice=passkey-added/, { timeout: 10_000 }).catch(async (e) => {
      throw new Error(`${(e as Error).message}\npasskey status: ${await page.locator('.passkey [role=status]').textContent()}`);
    });
    await expect(page.getByText('Test key').isVisible()).resolves.toBe(true);
    await screenshot(page, 'account-security');

    for (const [link, name] of [['Email', 'account-email'], ['Password', 'account-password'], ['Sessions', 'account-sessions'], ['Apps', 'account-apps']] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await screenshot(page, name);
    }

    // a new browser: password, then the passkey
    const second = await newContext(browser);
    const p2 = await second.newPage();
    const cdp2 = await second.newCDPSession(p2);
    await cdp2.send('WebAuthn.enable');
    // the same passkey, carried over to the new browser's authenticator
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: first });
    expect(credentials).toHaveLength(1);
    const { authenticatorId: target } = await cdp2.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
    for (const credential of credentials) await cdp2.send('WebAuthn.addCredential', { authenticatorId: target, credential });

    await p2.goto(`${gh.issuer}/account/sessions`);
    await signInOn(p2, 'keys@example.test');
    await p2.waitForURL(/\/mfa$/);
    await screenshot(p2, 'mfa-passkey');
    await p2.getByRole('button', { name: 'Use a passkey' }).click();
    await p2.waitForURL(`${gh.issuer}/account/sessions`);
    await expect(p2.getByText('This device').isVisible()).resolves.toBe(true);
    await context.close();
    await second.close();
  });
});


describe('account flows in Chromium', () => {
  it('shows only its own notices: words written into the link show nothing, a real notice still shows', async () => {
    // issue 17: ?notice= used to put any text from the URL into the page's trusted banner
    await gh.cliJson(['users', 'create', '--email', 'noticed@example.test', '--password', PASSWORD]);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/account?notice=call+us+on+0800+123+to+unlock+your+account`);
    await signInOn(page, 'noticed@example.test');
    await page.waitForURL(/\/account\?notice=call/);
    await expect(page.getByRole('heading', { name: 'Your account' }).isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain('call us');
    expect(await page.locator('.notice').count()).toBe(0);
    // a key that is a property of every object is not one of ours either
    await page.goto(`${gh.issuer}/account?notice=constructor`);
    expect(await page.locator('.notice').count()).toBe(0);

    await page.getByLabel('Full name').fill('Noticed Person');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${gh.issuer}/account?notice=profile-saved`);
    await expect(page.locator('.notice').textContent()).resolves.toBe('Profile saved.');
    await context.close();
  });

  it('resets a forgotten password from the sign-in page with the mailed link', async () => {
    const { waitForMessages } = await import('../support/outbox.ts');
    await gh.cliJson(['users', 'create', '--email', 'forgetful@example.test', '--password', PASSWORD]);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/account`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill('forgetful@example.test');
    await screenshot(page, 'account-forgot');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' }).isVisible()).resolves.toBe(true);
    const link = /(http:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]{43})/.exec((await waitForMessages(gh.dataDir, 'forgetful@example.test')).at(-1)!)![1]!;
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('a fresh start for everyone');
    await page.getByLabel('New password again').fill('a fresh start for everyone');
    await screenshot(page, 'account-reset');
    await page.getByRole('button', { name: 'Save password' }).click();
    await expect(page.getByRole('heading', { name: 'Your password was changed' }).isVisible()).resolves.toBe(true);
    await page.goto(`${gh.issuer}/account`);
    await page.getByLabel('Email').fill('forgetful@example.test');
    await page.getByLabel('Password').fill('a fresh start for everyone');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gh.issuer}/account`);
    await context.close();
  });

  it('turns on an authenticator app, then signs in with its code', async () => {
    const { generate } = await import('otplib');
    await gh.cliJson(['users', 'create', '--email', 'totp-browser@example.test', '--password', PASSWORD]);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/account/security`);
    await signInOn(page, 'totp-browser@example.test');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('code.secret').textContent())!.replace(/\s+/g, ''); // shown in groups of four
    await screenshot(page, 'account-totp-setup');
    await page.getByLabel('Code from the app').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.getByRole('heading', { name: 'Save your recovery codes' }).isVisible()).resolves.toBe(true);
    expect(await page.locator(".recovery-codes li").count()).toBe(10);
    await screenshot(page, 'account-recovery-codes');
    await context.close();

    const fresh = await newContext(browser);
    const p2 = await fresh.newPage();
    await p2.goto(`${gh.issuer}/account`);
    await signInOn(p2, 'totp-browser@example.test');
    await p2.waitForURL(/\/mfa$/);
    await screenshot(p2, 'mfa-totp');
    await p2.getByLabel('Code from your authenticator app').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await p2.getByRole('button', { name: 'Verify' }).click();
    await p2.waitForURL(`${gh.issuer}/account`);
    await fresh.close();
  });
});
