// /account/identities in Chromium: the linked sign-ins (provider name and icon, upstream email,
// linked and last sign-in dates), "Link" buttons for enabled providers not linked yet, unlinking
// with a confirmation (audited), and the refusal to unlink the last way to sign in — with the way
// forward (set a password: a form with no current-password field), after which unlinking works.
// Identities are made directly with the identity repository over the server's database (the flow
// that makes them through a real upstream is federation's own suite). Screenshots at 1280 and 390.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import knexFactory, { type Knex } from 'knex';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { registerProvider } from '../support/upstream.ts';
import { createIdentityRepo, type IdentityRepo } from '../../src/upstream/identity.repo.ts';

const PASSWORD = 'identities pass phrase 31';
let gh: TestServer;
let browser: Browser;
let knex: Knex;
let identities: IdentityRepo;

const userId = async (email: string): Promise<string> => (await knex('users').where({ email }).first()).id;

beforeAll(async () => {
  gh = await startServer();
  browser = await launchBrowser();
  knex = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL, pool: { min: 0, max: 2 } });
  identities = createIdentityRepo(knex);
  await registerProvider(gh, { name: 'google', kind: 'google', client_id: 'gh-test.apps.googleusercontent.com', client_secret: 'not-used' });
  await registerProvider(gh, { name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: 'http://127.0.0.1:9/corp', client_id: 'gatehouse', client_secret: 'not-used' });
  await registerProvider(gh, { name: 'gitlab', kind: 'gitlab', client_id: 'gl-client', client_secret: 'not-used' });
  await registerProvider(gh, { name: 'retired', kind: 'oidc', display_name: 'Retired IdP', issuer: 'http://127.0.0.1:9/old', client_id: 'gatehouse', client_secret: 'not-used', enabled: false });
}, 120_000);
afterAll(async () => { await knex?.destroy(); await browser?.close(); await gh?.destroy(); });

async function signedIn(email: string): Promise<Page> {
  const page = await (await newContext(browser)).newPage();
  await page.goto(`${gh.issuer}/account/identities`);
  await signInAs(page, email, PASSWORD);
  await page.waitForURL(`${gh.issuer}/account/identities`, { timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${(e as Error).message}\nat ${page.url()}:\n${(await page.locator('main').innerText().catch(() => '')).slice(0, 300)}\n${gh.log().split('\n').filter((l) => /signin|login|password|error/i.test(l)).slice(-8).join('\n')}\n${JSON.stringify(await knex('users').select('email', 'password_hash', 'disabled_at'))}`);
  });
  return page;
}

/** POSTs the unlink form by hand, with the page's CSRF token (as a forged or stale form would). */
async function postUnlink(page: Page, id: string): Promise<{ status: number; text: string }> {
  await page.goto(`${gh.issuer}/account/password`);
  const csrf = await page.locator('input[name=_csrf]').first().inputValue();
  return page.evaluate(async ([url, token]) => {
    const r = await fetch(url!, { method: 'POST', body: new URLSearchParams({ _csrf: token! }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { status: r.status, text: await r.text() };
  }, [`/account/identities/${id}/unlink`, csrf]);
}

describe('/account/identities in Chromium', () => {
  it('lists linked sign-ins, offers the enabled others, and unlinks one after a confirmation', async () => {
    const email = 'linked@example.test';
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--name', 'Linked Person']);
    const id = await userId(email);
    const google = await identities.insert({ provider: 'google', subject: '108234567890', user_id: id, email: 'linked.person@gmail.com', created_at: new Date('2026-11-02T09:00:00Z'), last_sign_in_at: new Date('2026-12-01T08:30:00Z') });
    await identities.insert({ provider: 'corp', subject: 'emp-4711', user_id: id, email: 'l.person@corp.example', created_at: new Date('2026-11-20T10:00:00Z') });

    const page = await signedIn(email);
    await expect(page.getByRole('heading', { name: 'Linked sign-ins', level: 1 }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Linked sign-ins' }).getAttribute('aria-current')).resolves.toBe('page');
    const linked = page.locator('.identity-list li');
    await expect(linked.count()).resolves.toBe(2);
    await expect(linked.nth(0).innerText()).resolves.toMatch(/Google[\s\S]*linked\.person@gmail\.com[\s\S]*Linked 2026-11-02 · last sign-in 2026-12-01 08:30 UTC/);
    await expect(linked.nth(1).innerText()).resolves.toMatch(/Corp SSO[\s\S]*l\.person@corp\.example[\s\S]*never used to sign in/);
    await expect(linked.nth(0).locator('svg').count()).resolves.toBe(1); // the provider's icon
    // enabled and not linked: GitLab; never the disabled one, never a linked one
    const offers = page.locator('.provider-buttons a');
    await expect(offers.count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Link GitLab', exact: true }).getAttribute('href')).resolves.toBe('/providers/gitlab/start?mode=link');
    await expect(page.getByText('Set a password').count()).resolves.toBe(0); // this account has one
    await screenshot(page, 'account-identities');

    await page.getByRole('link', { name: 'Unlink Google (linked.person@gmail.com)' }).click();
    await page.waitForURL(`${gh.issuer}/account/identities/${google.id}/unlink`);
    await expect(page.getByRole('heading', { name: 'Unlink Google?' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'account-identity-unlink');
    await page.getByRole('button', { name: 'Unlink Google' }).click();
    await page.waitForURL(/\/account\/identities\?notice=identity-unlinked$/);
    await expect(page.getByRole('status').innerText()).resolves.toContain('Unlinked');
    await expect(page.locator('.identity-list li').count()).resolves.toBe(1);
    await expect(page.locator('.provider-buttons a').count()).resolves.toBe(2);
    await expect(page.getByRole('link', { name: 'Link Google', exact: true }).getAttribute('href')).resolves.toBe('/providers/google/start?mode=link');

    expect(await identities.findByProviderSubject('google', '108234567890')).toBeUndefined();
    const events = await knex('audit_events').where({ type: 'identity.unlinked', subject_id: id });
    expect(events.map((e) => e.data)).toEqual([{ provider: 'google', subject: '108234567890' }]);
    await page.context().close();
  });

  it('never unlinks the last way to sign in: says to set a password first, which then makes it possible', async () => {
    const email = 'upstream-only@example.test';
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
    const id = await userId(email);
    const a = await identities.insert({ provider: 'corp', subject: 'emp-1', user_id: id, email });
    const b = await identities.insert({ provider: 'gitlab', subject: '99', user_id: id, email });
    const page = await signedIn(email);
    // as if the account was made by an upstream sign-in: no password (the session stays)
    await knex('users').where({ id }).update({ password_hash: null });

    // two identities and no password: either one may go, not both
    await page.goto(`${gh.issuer}/account/identities`);
    await expect(page.getByRole('link', { name: /^Unlink/ }).count()).resolves.toBe(2);
    await expect(page.getByRole('link', { name: 'Set a password' }).count()).resolves.toBe(1);
    await page.getByRole('link', { name: `Unlink GitLab (${email})` }).click();
    await page.getByRole('button', { name: 'Unlink GitLab' }).click();
    await page.waitForURL(/notice=identity-unlinked$/);

    // the last one: no Unlink, a sentence with the way forward
    await expect(page.getByRole('link', { name: /^Unlink/ }).count()).resolves.toBe(0);
    await expect(page.locator('#last-way').innerText()).resolves.toContain('This is the only way you can sign in. Set a password first');
    await screenshot(page, 'account-identities-last-way');
    // the confirmation page and a hand-made POST are refused too, and nothing is removed
    const confirm = await page.goto(`${gh.issuer}/account/identities/${a.id}/unlink`);
    expect(confirm?.status()).toBe(409);
    await expect(page.getByRole('alert').innerText()).resolves.toContain('Set a password first');
    const forced = await postUnlink(page, a.id);
    expect(forced.status).toBe(409);
    expect(forced.text).toContain('This is the only way you can sign in.');
    expect(await identities.findByProviderSubject('corp', 'emp-1')).toBeDefined();
    // someone else's identity, or none: 404, nothing touched
    expect((await postUnlink(page, b.id)).status).toBe(404);
    expect((await postUnlink(page, '00000000-0000-4000-8000-000000000000')).status).toBe(404);

    // set a password: no current password asked
    await page.goto(`${gh.issuer}/account/identities`);
    await page.locator('#last-way').getByRole('link', { name: 'Set a password' }).click();
    await page.waitForURL(`${gh.issuer}/account/password`);
    await expect(page.getByRole('heading', { name: 'Set a password' }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Current password').count()).resolves.toBe(0);
    await screenshot(page, 'account-password-set');
    await page.getByLabel('New password', { exact: true }).fill('a brand new pass phrase 9');
    await page.getByLabel('New password again').fill('a brand new pass phrase 9');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.waitForURL(/\/account\/password\?notice=password-set$/);
    await expect(page.getByLabel('Current password').isVisible()).resolves.toBe(true); // now it is a change
    expect((await knex('users').where({ id }).first()).password_hash).toMatch(/^\$argon2id\$/);
    expect((await knex('audit_events').where({ type: 'password.changed', subject_id: id }).first()).data).toEqual({ first: true });

    // and now the last identity may go
    await page.goto(`${gh.issuer}/account/identities`);
    await page.getByRole('link', { name: `Unlink Corp SSO (${email})` }).click();
    await page.getByRole('button', { name: 'Unlink Corp SSO' }).click();
    await page.waitForURL(/notice=identity-unlinked$/);
    await expect(page.getByText('None yet').isVisible()).resolves.toBe(true);
    expect(await identities.countForUser(id)).toBe(0);
    await page.context().close();
  });
});
