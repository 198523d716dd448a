// Issue 17, the console's frame, clients, signing keys and audit log in headless Chromium (desktop
// and phone screenshots, axe-core on each page): a client registered, edited, re-keyed and deleted
// through confirmations; the built-in account client refused on the console, the API and the CLI;
// keys rotated and withdrawn; the audit log by name, filtered from lists and paged; sign-out.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const PASSWORD = 'console seventeen pass 4';
const REDIRECT = 'http://127.0.0.1:7999/cb';
const ADMIN = 'operator17@example.test';
let gh: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let adminToken: string;
let apiClient: { client_id: string; client_secret: string };

const api = (path: string, init: RequestInit = {}) => fetch(`${gh.issuer}/api/admin${path}`, {
  ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
});
const nav = (name: string) => page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name, exact: true });
const current = () => page.locator('.console-nav a[aria-current=page]').textContent();
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_ADMIN_CONSOLE_MFA: 'false' } });
  browser = await launchBrowser();
  await gh.cliJson(['users', 'create', '--email', ADMIN, '--password', PASSWORD, '--admin']);
  apiClient = await gh.cliJson(['clients', 'create', '--name', 'Ops console', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access admin']);
  const cfg: oidc.Configuration = await discover({ issuer: gh.issuer, clientId: apiClient.client_id, clientSecret: apiClient.client_secret, redirectUri: REDIRECT });
  adminToken = (await signIn(cfg, { issuer: gh.issuer, clientId: apiClient.client_id, clientSecret: apiClient.client_secret, redirectUri: REDIRECT, email: ADMIN, password: PASSWORD, scope: 'openid admin' })).tokens.access_token;
  context = await newContext(browser);
  page = await context.newPage();
  await page.goto(`${gh.issuer}/admin/clients`);
  await signInAs(page, ADMIN, PASSWORD);
  await page.waitForURL(`${gh.issuer}/admin/clients`);
}, 180_000);
afterAll(async () => { await context?.close(); await browser?.close(); await gh?.destroy(); });

describe('the console frame', () => {
  it('has a nav of every section with the current one marked, the admin, and a sign-out button', async () => {
    const links = await page.locator('.console-nav a').allTextContents();
    expect(links).toEqual(['Users', 'Clients', 'Workspaces', 'Sign-in providers', 'Resources', 'Webhooks', 'Signing keys', 'Audit']);
    await expect(current()).resolves.toBe('Clients');
    await expect(page.locator('.console-top').textContent()).resolves.toContain(ADMIN);
    await expect(page.locator('.console-top').getByRole('button', { name: 'Sign out' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('link[href="/assets/console.css"]').count()).resolves.toBe(1);
    // the content uses the screen: far wider than the 640px sign-in card on a desktop
    const width = await page.locator('main').evaluate((m) => m.getBoundingClientRect().width);
    expect(width).toBeGreaterThan(900);
    await screenshot(page, 'admin17-clients');
    await expectAccessible(page, 'clients');
  });

  it('shows the other sections in the same frame, without sideways scrolling on a phone', async () => {
    for (const [name, path] of [['Users', '/admin/users'], ['Workspaces', '/admin/workspaces'], ['Sign-in providers', '/admin/providers'], ['Resources', '/admin/resources'], ['Webhooks', '/admin/webhooks']] as const) {
      await nav(name).click();
      await page.waitForURL(`${gh.issuer}${path}`);
      await expect(current()).resolves.toBe(name);
      await screenshot(page, `admin17-section-${path.split('/')[2]}`);
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect([path, overflow]).toEqual([path, 0]);
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    await nav('Webhooks').click();
    await expectAccessible(page, 'webhooks');
    await nav('Sign-in providers').click();
    await expectAccessible(page, 'providers');
    await nav('Resources').click();
    await expectAccessible(page, 'resources');
  });
});

describe('clients', () => {
  it('registers, edits, re-keys and deletes a client through confirmations, audited with the admin', async () => {
    await nav('Clients').click();
    await page.getByRole('link', { name: 'Register a client' }).click();
    await expectAccessible(page, 'client-form');
    await page.getByLabel('Name', { exact: true }).fill('Billing portal');
    // the authorization code grant is checked by default and needs a redirect URI: said under its field
    await page.getByRole('button', { name: 'Register client' }).click();
    const redirect = page.getByLabel('Redirect URIs', { exact: true });
    await expect(redirect.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#redirect_uris-error').textContent()).resolves.toContain('at least one redirect URI');
    await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('Billing portal'); // what was typed stays
    await screenshot(page, 'admin17-client-form-error');
    await expectAccessible(page, 'client-form-error');

    await redirect.fill('https://billing.example.test/callback\nhttps://billing.example.test/cb2');
    await page.getByLabel('Post-logout redirect URIs').fill('https://billing.example.test/');
    await page.getByLabel(/Require a second factor/).check();
    await page.getByLabel('ID token signing algorithm').selectOption('ES256');
    await page.getByLabel('Who may sign up').selectOption('invitation');
    await page.getByRole('button', { name: 'Register client' }).click();
    await expect(page.getByRole('heading', { name: 'Billing portal' }).isVisible()).resolves.toBe(true);
    expect(page.url()).toBe(`${gh.issuer}/admin/clients/new`); // the secret is on this answer, never in a URL
    await expect(current()).resolves.toBe('Clients'); // the nav keeps its highlight after a POST
    const secret = (await page.locator('#client-secret').textContent())!.trim();
    expect(secret.length).toBeGreaterThanOrEqual(40);
    await screenshot(page, 'admin17-client-created');
    await expectAccessible(page, 'client-created');
    const clientId = (await page.locator('dl.facts code').first().textContent())!.trim();
    const shown = await gh.cliJson(['clients', 'show', clientId]);
    expect([shown.client_name, shown.require_mfa, shown.id_token_signed_response_alg, shown.redirect_uris.length, shown.signup_policy]).toEqual(['Billing portal', true, 'ES256', 2, 'invitation']);

    await page.getByRole('link', { name: 'Edit' }).click();
    await expect(page.getByLabel('Redirect URIs', { exact: true }).inputValue()).resolves.toBe('https://billing.example.test/callback\nhttps://billing.example.test/cb2');
    await page.getByLabel('Name', { exact: true }).fill('Billing portal (EU)');
    await page.getByLabel(/Require a second factor/).uncheck();
    await page.getByLabel(/Require a verified email/).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByText('Client saved.').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'Billing portal (EU)' }).isVisible()).resolves.toBe(true);
    const edited = await gh.cliJson(['clients', 'show', clientId]);
    expect([edited.require_mfa, edited.require_email_verification, edited.signup_policy]).toEqual([false, true, 'invitation']); // untouched fields stay

    await page.getByRole('link', { name: 'Rotate secret' }).click();
    await expect(page.getByText('The current secret stops working at once').isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin17-client-rotate');
    await expectAccessible(page, 'client-rotate');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = (await page.locator('#client-secret').textContent())!.trim();
    expect(rotated).not.toBe(secret);
    expect(page.url()).not.toContain(rotated);

    await page.getByRole('link', { name: 'Delete' }).click();
    await expect(page.getByText('Its access and refresh tokens stop working').isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin17-client-delete');
    await expectAccessible(page, 'client-delete');
    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.waitForURL(`${gh.issuer}/admin/clients?done=deleted`);
    await expect(page.getByText('Client deleted.').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: 'Billing portal (EU)' }).count()).resolves.toBe(0);
    expect((await gh.cli(['clients', 'show', clientId])).code).toBe(4);

    // each change is in the audit log with the admin's email and the client's name
    await page.goto(`${gh.issuer}/admin/audit?client=${encodeURIComponent(clientId)}`);
    const rows = page.locator('table.audit tbody tr');
    await expect(rows.count()).resolves.toBe(4);
    const types = await page.locator('table.audit tbody tr td:nth-child(2)').allTextContents();
    expect(types).toEqual(['client.deleted', 'client.secret_rotated', 'client.updated', 'client.created']);
    await expect(rows.first().textContent()).resolves.toContain(ADMIN);
    await expect(rows.first().textContent()).resolves.toContain('Billing portal (EU) (deleted)');
  });
});

describe('built-in clients', () => {
  it('are shown as built in, with no edit, rotate or delete, and refused from the console, the API and the CLI', async () => {
    await page.goto(`${gh.issuer}/admin/clients`);
    await expect(page.locator('tr', { hasText: 'gatehouse-account' }).locator('.tag.built-in').isVisible()).resolves.toBe(true);
    await page.goto(`${gh.issuer}/admin/clients/gatehouse-account`);
    await expect(page.getByText('cannot be changed, given a secret or deleted').isVisible()).resolves.toBe(true);
    for (const name of ['Edit', 'Rotate secret', 'Delete']) await expect(page.getByRole('link', { name, exact: true }).count()).resolves.toBe(0);
    await screenshot(page, 'admin17-client-built-in');
    await expectAccessible(page, 'client-built-in');

    const shown = await page.goto(`${gh.issuer}/admin/clients/gatehouse-account/delete`);
    expect(shown!.status()).toBe(409);
    await expect(page.getByText('This client cannot be deleted.').isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'client-built-in-refused');
    // a crafted POST (the form of another page pointed at the built-in client) is refused too
    await page.goto(`${gh.issuer}/admin/keys/rotate`);
    await page.evaluate(() => { document.querySelector('form.form')!.setAttribute('action', '/admin/clients/gatehouse-account/delete'); });
    const [posted] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/gatehouse-account/delete') && r.request().method() === 'POST'), page.getByRole('button', { name: 'Rotate keys' }).click()]);
    expect(posted.status()).toBe(409);
    await expect(page.getByText('This client cannot be deleted.').isVisible()).resolves.toBe(true);

    for (const [method, path] of [['DELETE', '/clients/gatehouse-account'], ['POST', '/clients/gatehouse-account/rotate-secret'], ['PATCH', '/clients/gatehouse-account']] as const) {
      const r = await api(path, { method, ...(method === 'PATCH' ? { body: JSON.stringify({ name: 'Mine now' }) } : {}) });
      const body = await r.json() as { error: string; message: string };
      expect([path, method, r.status, body.error]).toEqual([path, method, 409, 'built_in_client']);
      expect(body.message).toContain('is a built-in client');
    }
    for (const args of [['clients', 'delete', 'gatehouse-account'], ['clients', 'rotate-secret', 'gatehouse-account']]) {
      const r = await gh.cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('"gatehouse-account" is a built-in client');
    }
    // nothing broke: the account client still signs the console in
    expect((await gh.cliJson(['clients', 'show', 'gatehouse-account'])).client_name).toBe('Your account');
    await page.goto(`${gh.issuer}/admin/users`);
    await expect(page.getByRole('heading', { name: 'Users' }).isVisible()).resolves.toBe(true);
  });
});

describe('signing keys', () => {
  it('lists the keys, rotates after a confirmation and withdraws a retired key, audited', async () => {
    await nav('Signing keys').click();
    await page.waitForURL(`${gh.issuer}/admin/keys`);
    await expect(page.locator('table.keys tbody tr').count()).resolves.toBe(2);
    await screenshot(page, 'admin17-keys');
    await expectAccessible(page, 'keys');
    // the key that signs now cannot be withdrawn: its page says why and offers the way
    const rsActive = (await gh.cliJson(['keys', 'list'])).find((k: any) => k.alg === 'RS256' && k.status === 'active').kid;
    const refused = await page.goto(`${gh.issuer}/admin/keys/${rsActive}/revoke`);
    expect(refused!.status()).toBe(409);
    await expect(page.getByText('cannot be withdrawn').isVisible()).resolves.toBe(true);

    await page.goto(`${gh.issuer}/admin/keys`);
    await page.getByRole('link', { name: 'Rotate keys' }).click();
    await screenshot(page, 'admin17-key-rotate');
    await expectAccessible(page, 'key-rotate');
    await page.getByLabel('Algorithms').selectOption('RS256');
    await page.getByRole('radio', { name: /Now/ }).check();
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page.waitForURL(`${gh.issuer}/admin/keys?done=rotated`);
    await expect(current()).resolves.toBe('Signing keys');
    const after = await gh.cliJson(['keys', 'list']) as Array<{ kid: string; alg: string; status: string }>;
    expect(after.find((k) => k.kid === rsActive)!.status).toBe('retired');
    expect(after.filter((k) => k.alg === 'RS256' && k.status === 'active')).toHaveLength(1);
    await expect(page.locator('tr', { hasText: rsActive }).textContent()).resolves.toContain('retired');

    await page.getByRole('link', { name: `Withdraw key ${rsActive}` }).click();
    await expect(page.getByText('Tokens signed with it stop verifying').isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin17-key-revoke');
    await expectAccessible(page, 'key-revoke');
    await page.getByRole('button', { name: 'Withdraw key' }).click();
    await page.waitForURL(`${gh.issuer}/admin/keys?done=revoked`);
    expect((await gh.cliJson(['keys', 'list'])).some((k: any) => k.kid === rsActive)).toBe(false);

    await page.goto(`${gh.issuer}/admin/audit?type=keys.revoked`);
    await expect(page.locator('table.audit tbody tr').first().textContent()).resolves.toContain(ADMIN);
  });
});

describe('audit log', () => {
  it('filters by lists, a user by email and dates, pages, and shows emails and client names', async () => {
    const subject = await gh.cliJson(['users', 'create', '--email', 'audited17@example.test', '--password', PASSWORD]);
    for (let i = 0; i < 30; i++) {
      const r = await api(`/users/${subject.id}`, { method: 'PATCH', body: JSON.stringify({ name: `Name ${i}` }) });
      expect(r.status).toBe(200);
    }
    await nav('Audit').click();
    await page.getByLabel('Event type').selectOption('user.updated');
    await page.getByLabel('User (email)').fill('AUDITED17@example.test');
    await page.getByLabel('Client').selectOption({ label: 'Ops console' });
    await page.getByLabel('From').fill(today());
    await page.getByLabel('To').fill(today());
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.getByText('30 events match these filters.').isVisible()).resolves.toBe(true);
    await expect(page.getByText('Page 1 of 2').isVisible()).resolves.toBe(true);
    const rows = page.locator('table.audit tbody tr');
    await expect(rows.count()).resolves.toBe(25);
    const first = (await rows.first().textContent())!;
    for (const words of [ADMIN, 'audited17@example.test', 'Ops console']) expect(first).toContain(words);
    expect(first).not.toContain(subject.id.slice(0, 8)); // names, not ids
    await screenshot(page, 'admin17-audit');
    await expectAccessible(page, 'audit');

    await page.getByRole('link', { name: 'Next page' }).click();
    await expect(page.getByText('Page 2 of 2').isVisible()).resolves.toBe(true);
    await expect(rows.count()).resolves.toBe(5);
    expect(new URL(page.url()).searchParams.get('type')).toBe('user.updated'); // the filters travel with the pages
    await page.getByRole('link', { name: 'Previous page' }).click();
    await expect(page.getByText('Page 1 of 2').isVisible()).resolves.toBe(true);

    // the day before: nothing; a user that is not an email: said on its field
    await page.goto(`${gh.issuer}/admin/audit?type=user.updated&to=2000-01-01`);
    await expect(page.getByText('0 events match these filters.').isVisible()).resolves.toBe(true);
    const bad = await page.goto(`${gh.issuer}/admin/audit?user=not-an-email`);
    expect(bad!.status()).toBe(400);
    await expect(page.getByLabel('User (email)').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#user-error').textContent()).resolves.toContain('email address');
    await expectAccessible(page, 'audit-error');
  });
});

describe('sign-out', () => {
  it('ends the admin session through the provider and lands on a signed-out page', async () => {
    await page.goto(`${gh.issuer}/admin/users`);
    await page.locator('.console-top').getByRole('button', { name: 'Sign out' }).click();
    // the provider's own confirmation of RP-initiated logout, then back to the console's page
    await page.getByRole('button', { name: /yes/i }).click();
    await page.waitForURL(`${gh.issuer}/admin/signed-out`);
    await expect(page.getByRole('heading', { name: 'You are signed out' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.console-nav').count()).resolves.toBe(0);
    await screenshot(page, 'admin17-signed-out');
    await expectAccessible(page, 'signed-out');
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true); // the session is gone
  });
});
