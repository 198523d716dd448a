// The admin console in headless Chromium: an admin must use MFA (enrolling on the way), finds a
// user, acts on them, mints an impersonation token; a non-admin is refused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { generate } from 'otplib';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';

const PASSWORD = 'console pass phrase 5';
let gh: TestServer;
let browser: Browser;

const signIn = (page: Page, email: string) => signInAs(page, email, PASSWORD);

beforeAll(async () => {
  gh = await startServer();
  browser = await launchBrowser();
  await gh.cliJson(['users', 'create', '--email', 'chief@example.test', '--password', PASSWORD, '--admin']);
  await gh.cliJson(['users', 'create', '--email', 'customer@example.test', '--password', PASSWORD, '--name', 'A Customer']);
});
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

describe('admin console', () => {
  it('requires MFA, then lets the admin find a user, disable them and mint an impersonation token', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/admin`);
    await signIn(page, 'chief@example.test');
    // no second factor yet: the console requires one, so the admin enrols on the way
    await page.waitForURL(/\/mfa-setup$/);
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await page.getByLabel('Code from the app').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('button', { name: /saved them/ }).click();
    await page.waitForURL(`${gh.issuer}/admin/users`);
    await screenshot(page, 'admin-users');

    await page.getByPlaceholder('Search by email or name').fill('customer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'customer@example.test' }).click();
    await expect(page.getByRole('heading', { name: 'customer@example.test' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-user');

    await page.getByLabel('Reason').fill('Ticket 99: checking what the customer sees');
    await page.getByRole('button', { name: 'Get an impersonation token' }).click();
    const token = (await page.locator('#token').inputValue()).trim();
    await screenshot(page, 'admin-impersonated');
    const me = await (await fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })).json() as { email: string; act: { sub: string } };
    expect(me.email).toBe('customer@example.test');
    expect(me.act.sub).toMatch(/^[0-9a-f-]{36}$/);

    await page.getByRole('link', { name: 'Back to the user' }).click();
    await page.getByRole('link', { name: 'Disable…' }).click(); // issue 17: a confirmation page says what happens
    await page.getByRole('button', { name: 'Disable user' }).click();
    await expect(page.getByText('User disabled').isVisible()).resolves.toBe(true);
    expect(new URL(page.url()).searchParams.get('notice')).toBe('disabled'); // a key, never the words
    expect((await gh.cliJson(['users', 'show', 'customer@example.test'])).disabled).toBe(true);

    // words someone else put in a link are never shown in the console's trusted banner
    await page.goto(`${gh.issuer}/admin/users?notice=${encodeURIComponent('Your account is locked. Call +1 555 0100.')}`);
    await expect(page.getByRole('heading', { name: 'Users' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.notice').count()).resolves.toBe(0);
    await expect(page.getByText('Call +1 555 0100').count()).resolves.toBe(0);

    await page.getByRole('link', { name: 'Audit' }).click();
    // the event types are also the options of the type filter: look in the log itself
    await expect(page.locator('table.audit').getByText('impersonation.token_issued').first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-audit');
    await page.getByRole('link', { name: 'Clients' }).click();
    await screenshot(page, 'admin-clients');
    await context.close();
  });

  it('refuses a signed-in user who is not an admin', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await gh.cliJson(['users', 'create', '--email', 'nobody-special@example.test', '--password', PASSWORD]);
    await page.goto(`${gh.issuer}/admin/users`);
    await signIn(page, 'nobody-special@example.test');
    // refused as soon as we know who it is, before any second factor is asked for
    await page.waitForURL(`${gh.issuer}/admin/users`);
    await expect(page.getByText('The console is for administrators').isVisible()).resolves.toBe(true);
    await context.close();
  });
});
