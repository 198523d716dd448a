// The console's resource pages in headless Chromium, on the embedded default (one process: the
// console's change reaches the token path of the same process at once): list with the
// GATEHOUSE_RESOURCES entry read-only, add (a refusal shown on the form with what was typed), edit,
// remove after a confirmation — and the next token for the API follows each change.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const PASSWORD = 'console resources pass phrase';
const REDIRECT = 'http://127.0.0.1:7999/cb';
const ENV_API = 'https://env-api.example.test';
const API = 'https://orders.example.test';
/** The server, the browser and a handful of `gatehouse` commands on a busy machine. */
const SETUP_TIMEOUT_MS = 180_000;

let gh: TestServer;
let browser: Browser;
let cfg: oidc.Configuration;
let rp: { issuer: string; clientId: string; clientSecret: string; redirectUri: string };

const tokenFor = async (resource: string) => (await signIn(cfg, {
  ...rp, email: 'chief@example.test', password: PASSWORD, scope: 'openid email profile offline_access', extra: { resource },
})).tokens.access_token;

beforeAll(async () => {
  gh = await startServer({ embedded: true, env: { GATEHOUSE_ADMIN_CONSOLE_MFA: 'false', GATEHOUSE_RESOURCES: ENV_API } });
  browser = await launchBrowser();
  await gh.cliJson(['users', 'create', '--email', 'chief@example.test', '--password', PASSWORD, '--admin', '--name', 'Chief', '--verified']);
  const app = await gh.cliJson(['clients', 'create', '--name', 'Orders app', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access']);
  rp = { issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT };
  cfg = await discover(rp);
}, SETUP_TIMEOUT_MS);
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

describe('the resources pages', () => {
  it('add, edit and remove a resource; the next token follows each change', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${gh.issuer}/admin/resources`);
    await signInAs(page, 'chief@example.test', PASSWORD);
    await page.waitForURL(`${gh.issuer}/admin/resources`);
    const envRow = page.getByRole('listitem').filter({ hasText: ENV_API });
    await expect(envRow.getByText('from GATEHOUSE_RESOURCES (read-only)').isVisible()).resolves.toBe(true);
    await expect(envRow.getByRole('link').count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Resources' }).getAttribute('aria-current')).resolves.toBe('page');

    await page.getByRole('link', { name: 'Add resource' }).click();
    await page.getByLabel('Audience').fill('https://orders.example.test/#v1');
    await page.getByLabel('Name (optional)').fill('Orders API');
    await page.getByRole('checkbox', { name: /^email scope/ }).check();
    await page.getByRole('checkbox', { name: /^name scope/ }).check();
    await page.getByLabel('API scopes (optional)').fill('orders:read orders:write');
    await page.getByRole('button', { name: 'Add resource' }).click();
    // refused on the form, with what was typed kept and a sentence that says why
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/must not contain a fragment/);
    await expect(page.getByLabel('Name (optional)').inputValue()).resolves.toBe('Orders API');
    await expect(page.getByRole('checkbox', { name: /^name scope/ }).isChecked()).resolves.toBe(true);
    await screenshot(page, 'admin-resource-form-error');
    await page.getByLabel('Audience').fill(API);
    await page.getByRole('button', { name: 'Add resource' }).click();
    await page.waitForURL(/\/admin\/resources\?done=created$/);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Resource added/);
    await screenshot(page, 'admin-resources');

    const first = decodeJwt(await tokenFor(API));
    expect(first).toMatchObject({ aud: API, email: 'chief@example.test', name: 'Chief' });

    await page.getByRole('link', { name: `Edit ${API}` }).click();
    await expect(page.getByLabel('API scopes (optional)').inputValue()).resolves.toBe('orders:read orders:write');
    await page.getByRole('checkbox', { name: /^name scope/ }).uncheck();
    await page.getByLabel('Token lifetime in seconds (optional)').fill('300');
    await screenshot(page, 'admin-resource-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/\/admin\/resources\?done=saved$/);
    const second = decodeJwt(await tokenFor(API));
    expect(second.email).toBe('chief@example.test');
    expect(second).not.toHaveProperty('name');
    expect(second.exp! - second.iat!).toBe(300);

    await page.getByRole('link', { name: `Remove ${API}` }).click();
    await expect(page.getByRole('heading', { name: 'Remove this resource?' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-resource-delete');
    await page.getByRole('button', { name: 'Remove resource' }).click();
    await page.waitForURL(/\/admin\/resources\?done=deleted$/);
    await expect(page.getByRole('listitem').filter({ hasText: API }).count()).resolves.toBe(0);
    await expect(tokenFor(API)).rejects.toMatchObject({ error: 'invalid_target' });

    const events = (await gh.cliJson(['resources', 'list'])).map((r: { audience: string }) => r.audience);
    expect(events).toEqual([ENV_API]);
  }, SETUP_TIMEOUT_MS);

  it('refuses a form sent without its CSRF token', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${gh.issuer}/admin/resources/new`);
    await signInAs(page, 'chief@example.test', PASSWORD);
    await page.waitForURL(`${gh.issuer}/admin/resources/new`);
    const status = await page.evaluate(async () => (await fetch('/admin/resources/new', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'audience=https%3A%2F%2Fcsrf.example.test',
    })).status);
    expect(status).toBe(403);
    expect((await gh.cliJson(['resources', 'list'])).some((r: { audience: string }) => r.audience === 'https://csrf.example.test')).toBe(false);
  }, SETUP_TIMEOUT_MS);
});
