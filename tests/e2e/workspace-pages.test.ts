// The workspace pages for their owners (/account/workspaces…) in headless Chromium: create, rename,
// invite (the mail from the dev outbox), accept as the invitee, change a role, remove a member (with
// its confirmation), revoke an invitation; a plain member gets the 403 page, a stranger the 404;
// every change in the audit trail with its actor; the pages in German and French; axe on each page
// and screenshots at desktop and phone sizes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import knexFactory, { type Knex } from 'knex';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';
import { waitForMessages } from '../support/outbox.ts';

const PASSWORD = 'workspace pages phrase 2026';
let gh: TestServer;
let browser: Browser;
let knex: Knex;
const contexts: BrowserContext[] = [];
let seq = 0;
const unique = (who: string) => `${who}-${Date.now().toString(36)}${seq++}@example.test`;
const userId = async (email: string): Promise<string> => (await knex('users').where({ email }).first()).id;

beforeAll(async () => {
  [gh, browser] = await Promise.all([startServer(), launchBrowser()]);
  knex = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL, pool: { min: 0, max: 2 } });
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await knex?.destroy();
  const failures = gh?.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
  if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
  await gh?.destroy();
});

async function person(label: string, name: string): Promise<string> {
  const email = unique(label);
  await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--name', name]);
  return email;
}

/** A new browser, signed in as `email`, on `path`. */
async function signedIn(email: string, path = '/account/workspaces'): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${gh.issuer}${path}`);
  await signInAs(page, email, PASSWORD);
  await page.waitForURL(`${gh.issuer}${path}`);
  return page;
}

async function click(page: Page, role: 'button' | 'link', name: string | RegExp) {
  await Promise.all([page.waitForLoadState(), page.getByRole(role, { name, exact: typeof name === 'string' }).click()]);
}

const status = (page: Page) => page.getByRole('status').textContent();
const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

/** No page scrolls sideways on a phone. */
async function fitsPhone(page: Page) {
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 1280, height: 800 });
  expect(wide).toBeLessThanOrEqual(390);
}

async function auditTypes(workspaceId: string, actorId: string): Promise<string[]> {
  const rows = await knex('audit_events').whereRaw("data->>'workspace_id' = ?", [workspaceId]).andWhere({ actor_id: actorId }).orderBy('id');
  return rows.map((r: { type: string }) => r.type);
}

describe('workspace pages', () => {
  let owner: string;
  let invitee: string;
  let plain: string;
  let slug: string;
  let workspaceId: string;

  beforeAll(async () => {
    owner = await person('olive', 'Olive Owner');
    invitee = await person('ivan', 'Ivan Invitee');
    plain = await person('mia', 'Mia Member');
    slug = `orbit-${Date.now().toString(36)}`;
  });

  it('an owner creates and renames a workspace, invites, changes a role, removes a member and revokes an invitation', async () => {
    const page = await signedIn(owner);
    expect(await heading(page)).toBe('Your workspaces');
    await expectAccessible(page, 'workspaces list (none yet)');

    // a bad short name: the error sits under its field, and the name typed is kept
    await page.getByLabel('Workspace name').fill('Orbit Labs');
    await page.getByLabel('Short name').fill('Not a slug!');
    await click(page, 'button', 'Create workspace');
    const slugField = page.getByLabel('Short name');
    await expect(slugField.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#create-slug-error').textContent()).resolves.toContain('lower-case letters');
    await expect(page.getByLabel('Workspace name').inputValue()).resolves.toBe('Orbit Labs');
    await expectAccessible(page, 'workspaces create error');
    await screenshot(page, 'workspaces-create-error');

    await slugField.fill(slug);
    await click(page, 'button', 'Create workspace');
    await page.waitForURL(`${gh.issuer}/account/workspaces/${slug}?notice=created`);
    expect(await status(page)).toBe('Workspace created. You are its owner.');
    workspaceId = (await knex('workspaces').where({ slug }).first()).id;

    // rename (owner)
    await page.getByLabel('Workspace name').fill('Orbit Research');
    await click(page, 'button', 'Save name');
    expect(await status(page)).toBe('Workspace renamed.');
    expect(await heading(page)).toBe('Orbit Research');
    // the last owner is told why they cannot leave, instead of a button
    await expect(page.getByText('You are the last owner.').isVisible()).resolves.toBe(true);

    // invite the invitee, and a second address to revoke later
    await page.getByLabel('Email address').fill('not an address');
    await click(page, 'button', 'Send invitation');
    await expect(page.getByLabel('Email address').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#invite-email-error').textContent()).resolves.toContain('valid email address');
    await page.getByLabel('Email address').fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await click(page, 'button', 'Send invitation');
    expect(await status(page)).toBe('Invitation sent.');
    const later = unique('later');
    await page.getByLabel('Email address').fill(later);
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await click(page, 'button', 'Send invitation');
    const pending = page.getByRole('list', { name: 'Pending invitations' });
    await expect(pending.textContent()).resolves.toContain(invitee);
    await expect(pending.textContent()).resolves.toContain(later);
    await expectAccessible(page, 'workspace page (owner)');
    await fitsPhone(page);
    await screenshot(page, 'workspace-owner');

    // revoke the second invitation: a confirmation page first
    await click(page, 'link', `Revoke ${later}`);
    expect(await heading(page)).toBe('Revoke this invitation?');
    await expect(page.locator('.lead').textContent()).resolves.toContain(`The link sent to ${later} stops working at once`);
    await expectAccessible(page, 'revoke confirmation');
    await screenshot(page, 'workspace-revoke-confirm');
    await click(page, 'button', 'Revoke invitation');
    expect(await status(page)).toBe('Invitation revoked.');
    await expect(page.getByRole('list', { name: 'Pending invitations' }).textContent()).resolves.not.toContain(later);

    // the invitee accepts with the mailed link, signed in as themselves
    const mail = (await waitForMessages(gh.dataDir, invitee)).at(-1) ?? '';
    const link = /(http:\/\/[^\s"<>]+\/invitations\/accept\?token=[A-Za-z0-9_-]+)/.exec(mail)?.[1];
    expect(link).toBeDefined();
    const ivan = await signedIn(invitee);
    await ivan.goto(link!);
    await click(ivan, 'button', 'Accept and join');
    await ivan.goto(`${gh.issuer}/account/workspaces`);
    await expect(ivan.getByRole('link', { name: 'Members of Orbit Research' }).isVisible()).resolves.toBe(true);

    // the owner sees Ivan as a member, and makes him an admin
    await page.reload();
    const ivanRow = page.getByRole('listitem').filter({ hasText: 'Ivan Invitee' });
    await expect(ivanRow.textContent()).resolves.toContain('Member');
    await page.getByLabel('Role of Ivan Invitee').selectOption('admin');
    await click(page, 'button', 'Change role for Ivan Invitee');
    expect(await status(page)).toBe('Role changed.');
    await expect(page.getByRole('listitem').filter({ hasText: 'Ivan Invitee' }).locator('.member-role').textContent()).resolves.toBe('Admin');

    // remove Ivan: the confirmation says what will happen
    await click(page, 'link', 'Remove Ivan Invitee');
    expect(await heading(page)).toBe('Remove Ivan Invitee from Orbit Research?');
    await expect(page.locator('.lead').textContent()).resolves.toContain(`${invitee} will lose access to Orbit Research at once`);
    await expectAccessible(page, 'remove confirmation');
    await fitsPhone(page);
    await screenshot(page, 'workspace-remove-confirm');
    await click(page, 'button', 'Remove Ivan Invitee');
    expect(await status(page)).toBe('Member removed.');
    await expect(page.getByRole('listitem').filter({ hasText: 'Ivan Invitee' }).count()).resolves.toBe(0);

    // every change is in the audit trail with the owner as its actor
    const ownerId = await userId(owner);
    expect(await auditTypes(workspaceId, ownerId)).toEqual(expect.arrayContaining([
      'workspace.created', 'workspace.renamed', 'workspace.invitation_created', 'workspace.invitation_revoked',
      'workspace.member_role_changed', 'workspace.member_removed',
    ]));
    expect(await auditTypes(workspaceId, await userId(invitee))).toEqual(expect.arrayContaining(['workspace.member_added', 'workspace.invitation_accepted']));
  });

  it('a plain member sees the members but cannot manage them (403 page with a way back), and can leave', async () => {
    await gh.cliJson(['workspaces', 'add-member', '--workspace', slug, '--email', plain, '--role', 'member']);
    const page = await signedIn(plain, `/account/workspaces/${slug}`);
    expect(await heading(page)).toBe('Orbit Research');
    await expect(page.getByText('Olive Owner').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Send invitation' }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: /^Remove/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Save name' }).count()).resolves.toBe(0);
    await expectAccessible(page, 'workspace page (member)');
    await screenshot(page, 'workspace-member');

    const response = await page.goto(`${gh.issuer}/account/workspaces/${slug}/members/${await userId(owner)}/remove`);
    expect(response?.status()).toBe(403);
    expect(await heading(page)).toBe('Only owners and admins can do this');
    await expect(page.locator('.lead').textContent()).resolves.toContain('Your role in Orbit Research: Member.');
    await expectAccessible(page, '403 page');
    await screenshot(page, 'workspace-denied');
    await click(page, 'link', 'Back to the workspace');
    expect(page.url()).toBe(`${gh.issuer}/account/workspaces/${slug}`);

    // a form forged with her own CSRF token changes nothing either: the same 403 page
    await Promise.all([page.waitForLoadState(), page.evaluate((action) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      for (const [name, value] of [['_csrf', (document.querySelector('input[name=_csrf]') as HTMLInputElement).value], ['email', 'friend@example.test'], ['role', 'member']]) {
        const input = document.createElement('input');
        input.type = 'hidden'; input.name = name; input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    }, `${gh.issuer}/account/workspaces/${slug}/invitations`)]);
    await page.waitForURL(`${gh.issuer}/account/workspaces/${slug}/invitations`);
    expect(await heading(page)).toBe('Only owners and admins can do this');
    expect(await knex('invitations').where({ workspace_id: workspaceId, email: 'friend@example.test' }).first()).toBeUndefined();
    await page.goto(`${gh.issuer}/account/workspaces/${slug}`);

    // a workspace that does not exist and one she is not in read the same: 404, with a way back
    const stranger = await gh.cliJson(['workspaces', 'create', '--slug', `elsewhere-${Date.now().toString(36)}`, '--name', 'Elsewhere', '--owner', owner]);
    for (const ref of [stranger.slug, stranger.id, 'no-such-workspace']) {
      const r = await page.goto(`${gh.issuer}/account/workspaces/${ref}`);
      expect(r?.status()).toBe(404);
      expect(await heading(page)).toBe('Workspace not found');
    }
    await expect(page.locator('main').textContent()).resolves.not.toContain('Elsewhere');
    await expectAccessible(page, '404 page');
    await click(page, 'link', 'All workspaces');

    // leaving: a confirmation, then back on the list
    await page.goto(`${gh.issuer}/account/workspaces/${slug}`);
    await click(page, 'link', 'Leave workspace');
    expect(await heading(page)).toBe('Leave Orbit Research?');
    await expectAccessible(page, 'leave confirmation');
    await click(page, 'button', 'Leave Orbit Research');
    expect(await status(page)).toBe('You left the workspace.');
    expect(await knex('memberships').where({ workspace_id: workspaceId, user_id: await userId(plain) }).first()).toBeUndefined();
  });

  it('speaks the signed-in user\'s language, then the browser\'s', async () => {
    const hanna = await person('hanna', 'Hanna Huber');
    await knex('users').where({ email: hanna }).update({ locale: 'de-DE' });
    await gh.cliJson(['workspaces', 'add-member', '--workspace', slug, '--email', hanna, '--role', 'admin']);
    const page = await signedIn(hanna);
    expect(await heading(page)).toBe('Ihre Arbeitsbereiche');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
    await click(page, 'link', 'Mitglieder und Einstellungen von Orbit Research');
    await expect(page.getByRole('heading', { name: 'Jemanden einladen' }).isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('E-Mail-Adresse').isVisible()).resolves.toBe(true);
    await page.getByLabel('E-Mail-Adresse').fill('kein-gueltige-adresse');
    await click(page, 'button', 'Einladung senden');
    await expect(page.locator('#invite-email-error').textContent()).resolves.toBe('Geben Sie eine gültige E-Mail-Adresse ein, etwa name@example.com.');
    await expectAccessible(page, 'workspace page (German)');
    await fitsPhone(page);
    await screenshot(page, 'workspace-de');

    // no locale of their own: the browser's Accept-Language (French) decides
    const fr = await signedIn(owner);
    await fr.setExtraHTTPHeaders({ 'Accept-Language': 'fr-FR,fr;q=0.9' });
    await fr.goto(`${gh.issuer}/account/workspaces/${slug}`);
    await expect(fr.getByRole('heading', { name: 'Inviter quelqu’un' }).isVisible()).resolves.toBe(true);
    await expect(fr.getByText('Votre rôle : Propriétaire').isVisible()).resolves.toBe(true);
    await screenshot(fr, 'workspace-fr');
  });
});
