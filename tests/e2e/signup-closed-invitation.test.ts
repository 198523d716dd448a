// GATEHOUSE_SIGNUP=closed holds for workspace invitations too: an invitation to an address with no
// account explains that sign-up is closed and offers no form, and a hand-made POST to
// /invitations/signup is refused without creating an account. An invited address that already has
// an account still joins.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import knexFactory, { type Knex } from 'knex';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, signInAs } from '../support/browser.ts';
import { waitForMessages } from '../support/outbox.ts';

const PASSWORD = 'closed sign-up phrase 2026';
let gh: TestServer;
let browser: Browser;
let knex: Knex;

beforeAll(async () => {
  [gh, browser] = await Promise.all([startServer({ env: { GATEHOUSE_SIGNUP: 'closed' } }), launchBrowser()]);
  knex = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL, pool: { min: 0, max: 2 } });
});
afterAll(async () => {
  await browser?.close();
  await knex?.destroy();
  await gh?.destroy();
});

async function click(page: Page, name: string) {
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name, exact: true }).click()]);
}

describe('sign-up closed', () => {
  it('an invitation to a new address explains and creates nothing; an existing account still joins', async () => {
    const owner = `owner-${Date.now()}@example.test`;
    const member = `member-${Date.now()}@example.test`;
    const stranger = `stranger-${Date.now()}@example.test`;
    await gh.cliJson(['users', 'create', '--email', owner, '--password', PASSWORD, '--name', 'Olga Owner']);
    await gh.cliJson(['users', 'create', '--email', member, '--password', PASSWORD, '--name', 'Mia Member']);
    const slug = `closed-${Date.now().toString(36)}`;
    await gh.cliJson(['workspaces', 'create', '--slug', slug, '--name', 'Closed Co', '--owner', owner]);

    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/account/workspaces`);
    await signInAs(page, owner, PASSWORD);
    await page.waitForURL(`${gh.issuer}/account/workspaces`);
    await Promise.all([page.waitForLoadState(), page.getByRole('link', { name: 'Members and settings of Closed Co' }).click()]);
    for (const address of [stranger, member]) {
      await page.getByLabel('Email address').fill(address);
      await page.getByLabel('Role', { exact: true }).selectOption('member');
      await click(page, 'Send invitation');
    }

    const linkIn = async (to: string) => /(http:\/\/[^\s"<>]+\/invitations\/accept\?token=[A-Za-z0-9_-]+)/.exec((await waitForMessages(gh.dataDir, to)).at(-1) ?? '')?.[1];
    const strangerLink = await linkIn(stranger);
    expect(strangerLink).toBeDefined();
    const other = await (await newContext(browser)).newPage();
    await other.goto(strangerLink!);
    await expect(other.locator('main').textContent()).resolves.toContain('sign-up is closed');
    expect(await other.locator('input[type=password]').count()).toBe(0);

    // a hand-made POST with the page's own CSRF token and the invitation token
    const token = new URL(strangerLink!).searchParams.get('token')!;
    await other.goto(`${gh.issuer}/account/forgot`); // any form of this browser carries its CSRF token
    const csrf = await other.locator('input[name=_csrf]').first().inputValue();
    expect(csrf).not.toBe('');
    const answer = await other.request.post(`${gh.issuer}/invitations/signup`, {
      form: { _csrf: csrf, token, name: 'Sneaky', password: 'a long enough passphrase 2026' },
      headers: { origin: gh.issuer },
    });
    expect(answer.status()).toBe(403);
    expect(await answer.text()).toContain('sign-up is closed');
    expect(await knex('users').where({ email: stranger }).first()).toBeUndefined();

    // an address that has an account is asked to sign in and joins as before
    const memberLink = await linkIn(member);
    const mia = await (await newContext(browser)).newPage();
    await mia.goto(memberLink!);
    await expect(mia.locator('main').textContent()).resolves.not.toContain('sign-up is closed');
  });
});
