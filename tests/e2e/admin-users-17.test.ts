// Issue 17, the console's users, workspaces and support sessions in headless Chromium (desktop and
// phone screenshots, axe on every page): create a user, edit them, set a password, send a reset
// link, end one session, delete with a confirmation; manage a workspace's members; open a support
// session in a second (private) browser context — time-limited, visible to the user, audited with
// the admin as actor, and never over a browser's own session.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';
import { waitForMessages } from '../support/outbox.ts';
import { onDatabase } from '../support/upstream.ts';

const PASSWORD = 'console pass phrase 17';
const SLOW = 240_000; // a shared machine: many pages, each checked by axe twice
const SUPPORT_TTL = 600;
let gh: TestServer;
let browser: Browser;
let adminId: string;

const auditOf = (type: string) => onDatabase(gh, (k) => k('audit_events').where({ type }).orderBy('at').select('*'));

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_ADMIN_CONSOLE_MFA: 'false', GATEHOUSE_IMPERSONATION_TTL: String(SUPPORT_TTL) } });
  browser = await launchBrowser();
  adminId = (await gh.cliJson(['users', 'create', '--email', 'boss@example.test', '--password', PASSWORD, '--admin'])).id;
  await gh.cliJson(['users', 'create', '--email', 'pat@example.test', '--password', PASSWORD, '--name', 'Pat Customer']);
  await gh.cliJson(['users', 'create', '--email', 'sam@example.test', '--password', PASSWORD, '--name', 'Sam Member']);
  await gh.cliJson(['workspaces', 'create', '--slug', 'acme', '--name', 'Acme', '--owner', 'boss@example.test', '--json']);
}, 180_000);
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

async function adminPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${gh.issuer}/admin/users`);
  await signInAs(page, 'boss@example.test', PASSWORD);
  await page.waitForURL(`${gh.issuer}/admin/users`);
  return { context, page };
}
const notice = (page: Page) => page.locator('.notice').textContent();

describe('console users (issue 17)', () => {
  it('creates, edits, sets a password, sends a reset link, ends one session and deletes with a confirmation', async () => {
    const { context, page } = await adminPage();
    await expectAccessible(page, 'users');
    await page.getByRole('link', { name: 'Create a user' }).click();
    await expect(page.getByRole('heading', { name: 'Create a user' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'user-form');
    await screenshot(page, 'users17-user-new');

    // the password policy of sign-up and the admin API, the error next to its field
    await page.getByLabel('Email', { exact: true }).fill('new.person@example.test');
    await page.getByLabel('Name (optional)').fill('New Person');
    await page.getByLabel('Set it now').check();
    await page.getByLabel('Password (when set now)').fill('short');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page.locator('#password-error').textContent()).resolves.toMatch(/at least 8/i);
    await expect(page.getByLabel('Password (when set now)').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByLabel('Email', { exact: true }).inputValue()).resolves.toBe('new.person@example.test');
    await expectAccessible(page, 'user-form-error');
    // an email that is taken is refused on the email field
    await page.getByLabel('Email', { exact: true }).fill('pat@example.test');
    await page.getByLabel('Password (when set now)').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page.locator('#email-error').textContent()).resolves.toMatch(/already exists/);

    await page.getByLabel('Email', { exact: true }).fill('new.person@example.test');
    await page.getByLabel('Set it now').check();
    await page.getByLabel('Password (when set now)').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByRole('heading', { name: 'new.person@example.test' }).isVisible()).resolves.toBe(true);
    await expect(notice(page)).resolves.toBe('User created.');
    await expectAccessible(page, 'user');
    await screenshot(page, 'users17-user');

    // edit: name, verified flag, roles
    await page.getByLabel('Name', { exact: true }).fill('Renamed Person');
    await page.getByLabel('Email address verified').check();
    await page.getByLabel('Other roles').fill('support, billing');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(notice(page)).resolves.toBe('Changes saved.');
    const shown = await gh.cliJson(['users', 'show', 'new.person@example.test']);
    expect(shown).toMatchObject({ name: 'Renamed Person', email_verified: true, roles: ['support', 'billing'] });
    const userId = shown.id as string;
    // a bad role is refused next to the field, with what was typed kept
    await page.getByLabel('Other roles').fill('Not A Role');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.locator('#roles-error').textContent()).resolves.toMatch(/not a role/);
    await expect(page.getByLabel('Other roles').inputValue()).resolves.toBe('Not A Role');
    await page.goto(`${gh.issuer}/admin/users/${userId}`);

    // set a password: the policy applies, then it works
    await page.getByLabel('New password').fill('password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await expect(page.locator('#password-error').isVisible()).resolves.toBe(true);
    await page.getByLabel('New password').fill('a brand new pass phrase');
    await page.getByRole('button', { name: 'Set password' }).click();
    await expect(notice(page)).resolves.toMatch(/^Password set/);

    // send a reset link: the user gets the mail
    await page.getByRole('button', { name: 'Send a reset link' }).click();
    await expect(notice(page)).resolves.toMatch(/reset link is on its way/);
    const mails = await waitForMessages(gh.dataDir, 'new.person@example.test');
    expect(mails.some((m) => /\/account\/reset\?token=/.test(m))).toBe(true);

    // the user signs in elsewhere; the admin sees that session in words and ends it
    const userContext = await newContext(browser);
    const userPage = await userContext.newPage();
    await userPage.goto(`${gh.issuer}/account`);
    await signInAs(userPage, 'new.person@example.test', 'a brand new pass phrase');
    await userPage.waitForURL(`${gh.issuer}/account`);
    await page.reload();
    const row = page.locator('table.data tbody tr').filter({ hasText: 'on Linux' }).first();
    await expect(row.textContent()).resolves.toMatch(/Chrom\w* on Linux/);
    await row.getByRole('link', { name: /End/ }).click();
    await expect(page.getByRole('heading', { name: 'End this session?' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'user-session-end');
    await screenshot(page, 'users17-session-end');
    await page.getByRole('button', { name: 'End session' }).click();
    await expect(notice(page)).resolves.toBe('That session ended.');
    await userPage.goto(`${gh.issuer}/account`);
    await expect(userPage.getByLabel('Password').isVisible()).resolves.toBe(true); // signed out: the sign-in page
    await userContext.close();
    const revoked = (await auditOf('session.revoked')).filter((e) => e.subject_id === userId);
    expect(revoked.length).toBe(1);
    expect(revoked[0].actor_id).toBe(adminId);
    const updated = (await auditOf('user.updated')).filter((e) => e.subject_id === userId);
    expect(updated.every((e) => e.actor_id === adminId)).toBe(true);
    expect((await auditOf('password.reset')).find((e) => e.subject_id === userId)?.actor_id).toBe(adminId);

    // delete: a confirmation page says what happens; cancel keeps the user
    await page.getByRole('link', { name: 'Delete…' }).click();
    await expect(page.getByRole('heading', { name: 'Delete this user?' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('This cannot be undone').isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'user-delete');
    await screenshot(page, 'users17-user-delete');
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.waitForURL(/\/admin\/users\?notice=deleted$/);
    await expect(notice(page)).resolves.toBe('User deleted.');
    const gone = await gh.cli(['users', 'show', 'new.person@example.test']);
    expect(gone.code).not.toBe(0);
    expect((await auditOf('user.deleted')).find((e) => e.subject_id === userId)?.actor_id).toBe(adminId);
    await context.close();
  }, SLOW);

  it('manages a workspace: add a member by email, change a role, remove, rename, delete', async () => {
    const { context, page } = await adminPage();
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('link', { name: 'Acme' }).click();
    await expect(page.getByRole('heading', { name: 'Acme' }).isVisible()).resolves.toBe(true);

    await page.getByLabel('Email of an existing user').fill('nobody@example.test');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect(page.locator('#member-email-error').textContent()).resolves.toMatch(/No user has the email/);
    await page.getByLabel('Email of an existing user').fill('sam@example.test');
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect(notice(page)).resolves.toBe('Member added.');
    const samRow = page.locator('tbody tr').filter({ hasText: 'sam@example.test' });
    await samRow.getByLabel('Role of sam@example.test').selectOption('admin');
    await samRow.getByRole('button', { name: /Change/ }).click();
    await expect(notice(page)).resolves.toBe('Role changed.');
    await expect(page.locator('tbody tr').filter({ hasText: 'sam@example.test' }).getByLabel('Role of sam@example.test').inputValue()).resolves.toBe('admin');
    // the last owner stays an owner (the service's rule), said next to their role
    const bossRow = page.locator('tbody tr').filter({ hasText: 'boss@example.test' });
    await bossRow.getByLabel('Role of boss@example.test').selectOption('member');
    await bossRow.getByRole('button', { name: /Change/ }).click();
    await expect(page.getByText(/last owner/).first().isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'workspace');
    await screenshot(page, 'users17-workspace');

    await page.goto(`${gh.issuer}/admin/workspaces`);
    await page.getByRole('link', { name: 'Acme' }).click();
    await page.locator('tbody tr').filter({ hasText: 'sam@example.test' }).getByRole('link', { name: /Remove/ }).click();
    await expect(page.getByRole('heading', { name: 'Remove this member?' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'workspace-remove');
    await page.getByRole('button', { name: 'Remove member' }).click();
    await expect(notice(page)).resolves.toBe('Member removed.');
    await expect(page.locator('tbody tr').filter({ hasText: 'sam@example.test' }).count()).resolves.toBe(0);

    await page.getByLabel('Name', { exact: true }).fill('Acme Corporation');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(notice(page)).resolves.toBe('Workspace renamed.');
    await expect(page.getByRole('heading', { name: 'Acme Corporation' }).isVisible()).resolves.toBe(true);

    await page.getByRole('link', { name: 'Delete workspace…' }).click();
    await expect(page.getByRole('heading', { name: 'Delete this workspace?' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'workspace-delete');
    await screenshot(page, 'users17-workspace-delete');
    await page.getByRole('button', { name: 'Delete workspace' }).click();
    await expect(notice(page)).resolves.toBe('Workspace deleted.');
    await expect(page.getByRole('link', { name: 'Acme Corporation' }).count()).resolves.toBe(0);

    for (const type of ['workspace.member_added', 'workspace.member_role_changed', 'workspace.member_removed', 'workspace.renamed', 'workspace.deleted']) {
      const events = await auditOf(type);
      expect({ type, actor: events.at(-1)?.actor_id }).toEqual({ type, actor: adminId });
    }
    await context.close();
  }, SLOW);

  it('opens a support session in a private window: time-limited, shown to the user, audited, never over a session', async () => {
    const { context, page } = await adminPage();
    const pat = await gh.cliJson(['users', 'show', 'pat@example.test']);
    const makeLink = async () => {
      await page.goto(`${gh.issuer}/admin/users/${pat.id}`);
      await page.getByLabel('Reason').fill('Ticket 1701: the customer cannot find their sessions');
      await page.getByRole('button', { name: 'Open a support session' }).click();
      await expect(page.getByRole('heading', { name: /Support session for/ }).isVisible()).resolves.toBe(true);
      return (await page.getByLabel(/Single-use link/).inputValue()).trim();
    };
    // a reason is required
    await page.goto(`${gh.issuer}/admin/users/${pat.id}`);
    await page.getByLabel('Reason').fill('x');
    await page.getByRole('button', { name: 'Open a support session' }).click();
    await expect(page.locator('#reason-error').textContent()).resolves.toMatch(/Give a reason/);

    const link = await makeLink();
    expect(link).toMatch(new RegExp(`^${gh.issuer}/support-session/[A-Za-z0-9_-]{43}$`));
    await expectAccessible(page, 'support-link');
    await screenshot(page, 'users17-support-link');

    // in the admin's own browser the link changes nothing: the admin stays the admin
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'Open this link in a private window' }).isVisible()).resolves.toBe(true);
    await page.goto(`${gh.issuer}/admin/users`);
    await expect(page.getByRole('heading', { name: 'Users' }).isVisible()).resolves.toBe(true);

    // a private window (German): the token leaves the URL, a POST opens the session
    const priv = await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: { 'Accept-Language': 'de' } });
    const pp = await priv.newPage();
    await pp.goto(link);
    expect(new URL(pp.url()).pathname).toBe('/support-session');
    await expect(pp.getByRole('heading', { name: 'Open a support session?' }).isVisible()).resolves.toBe(true);
    await expect(pp.getByText('pat@example.test').first().isVisible()).resolves.toBe(true);
    await expectAccessible(pp, 'support-open');
    await screenshot(pp, 'users17-support-open');
    const before = Math.floor(Date.now() / 1000);
    await pp.getByRole('button', { name: 'Open the support session' }).click();
    await pp.waitForURL(`${gh.issuer}/account/sessions`);
    const after = Math.floor(Date.now() / 1000);
    const banner = (await pp.locator('.notice').first().textContent())!;
    expect(banner).toMatch(/^Support-Sitzung von boss@example\.test – endet um \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await expect(pp.getByText(/Support-Sitzung von boss@example\.test bis/).isVisible()).resolves.toBe(true);
    await expectAccessible(pp, 'support-sessions-de');
    await screenshot(pp, 'users17-support-sessions-de');

    // time-limited: the session cookie and the stored session end GATEHOUSE_IMPERSONATION_TTL after opening
    const cookie = (await priv.cookies()).find((c) => c.name === 'gh_session')!;
    expect(cookie.expires).toBeGreaterThanOrEqual(before + SUPPORT_TTL - 1);
    expect(cookie.expires).toBeLessThanOrEqual(after + SUPPORT_TTL + 1);
    const [opened] = await auditOf('impersonation.session_opened');
    expect(opened).toMatchObject({ actor_id: adminId, subject_id: pat.id });
    expect(opened.data.reason).toBe('Ticket 1701: the customer cannot find their sessions');
    const expiresAt = Date.parse(opened.data.expires_at) / 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(before + SUPPORT_TTL - 1);
    expect(expiresAt).toBeLessThanOrEqual(after + SUPPORT_TTL + 1);
    // a request through the provider (its session middleware saves the session again) keeps the end
    await pp.goto(`${gh.issuer}/account`);
    const again = (await priv.cookies()).find((c) => c.name === 'gh_session')!;
    expect(again.expires).toBeLessThanOrEqual(after + SUPPORT_TTL + 1);

    // a support session helps, it never changes how the owner signs in: no password, factor or
    // passkey added, no new sign-in or step-up (which would drop its marking), no app signed in to
    const refused = await pp.goto(`${gh.issuer}/account/password`);
    expect(refused!.status()).toBe(403);
    await expect(pp.locator('main').textContent()).resolves.toContain('Support-Sitzung');
    await pp.goto(`${gh.issuer}/account/security`);
    const csrf = await pp.locator('input[name=_csrf]').first().inputValue();
    for (const path of ['/account/security/totp', '/account/password']) {
      const r = await pp.request.post(`${gh.issuer}${path}`, { form: { _csrf: csrf, current_password: 'x', new_password: 'another long passphrase 2026' }, headers: { origin: gh.issuer } });
      expect({ path, status: r.status() }).toEqual({ path, status: 403 });
    }
    const r = await pp.request.post(`${gh.issuer}/account/security/passkeys/options`, { data: { _csrf: csrf }, headers: { origin: gh.issuer } });
    expect(r.status()).toBe(403);
    const stepUp = new URL(`${gh.issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: 'gatehouse-account', response_type: 'code', scope: 'openid', prompt: 'login',
      redirect_uri: `${gh.issuer}/account/callback`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st',
    })) stepUp.searchParams.set(k, v);
    await pp.goto(stepUp.href);
    await expect(pp.locator('main').textContent()).resolves.toContain('Eine Support-Sitzung kann nur die Kontoseiten öffnen');

    // single use: the same link again, anywhere, opens nothing
    const other = await newContext(browser);
    const op = await other.newPage();
    const reused = await op.goto(link);
    expect(reused!.status()).toBe(410);
    await expect(op.getByRole('heading', { name: 'This support link cannot be used' }).isVisible()).resolves.toBe(true);
    await other.close();

    // the user sees it on their own Sessions page (French), and the admin sees it in the console's list
    const patContext = await newContext(browser);
    const patPage = await patContext.newPage();
    await patPage.goto(`${gh.issuer}/account/sessions`);
    await signInAs(patPage, 'pat@example.test', PASSWORD);
    await patPage.waitForURL(`${gh.issuer}/account/sessions`);
    await patContext.setExtraHTTPHeaders({ 'Accept-Language': 'fr' });
    await patPage.reload();
    await expect(patPage.getByText(/Session d’assistance de boss@example\.test jusqu’à/).isVisible()).resolves.toBe(true);
    await expect(patPage.locator('.notice').count()).resolves.toBe(0); // not a support session here: no banner
    await screenshot(patPage, 'users17-user-sessions-fr');
    // and on their account page, with the reason
    await patPage.goto(`${gh.issuer}/account`);
    await expect(patPage.getByText('Ticket 1701: the customer cannot find their sessions').first().isVisible()).resolves.toBe(true);
    await patContext.close();

    await page.goto(`${gh.issuer}/admin/users/${pat.id}`);
    await expect(page.locator('table.data').first().textContent()).resolves.toMatch(/on Linux/);
    await expect(page.getByText(/Support session by boss@example\.test until/).isVisible()).resolves.toBe(true);
    await expect(page.getByText('impersonation.session_opened').isVisible()).resolves.toBe(true);
    expect((await auditOf('impersonation.support_link_created')).every((e) => e.actor_id === adminId)).toBe(true);
    await priv.close();
    await context.close();
  }, SLOW);
});
