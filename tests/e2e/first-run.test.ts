// The first run, as a new operator meets it: a server with no administrator prints a one-time
// setup link in its boot line; `/` says what Gatehouse is and what to do next; the link opens a
// form (the token leaves the URL for a cookie) that creates the first administrator, who then signs
// in to the console; the link is dead from then on, and `/` becomes a small landing page that an
// operator may turn off or redirect. Also: the busy-port sentence, the admin-password rule at boot,
// /favicon.ico, JSON logs on a pipe, German and French.
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { freePort, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs, VIEWPORTS } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';

const ADMIN = { email: 'owner@example.test', name: 'Olive Owner', password: 'a calm harbour lantern 7' };
const SETUP_LINK = /(https?:\/\/[^\s"]+\/setup\/([A-Za-z0-9_-]{43}))/;

let gh: TestServer;
let browser: Browser;

beforeAll(async () => {
  gh = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => { await browser?.close(); await gh?.destroy(); });

async function setupLinkOf(server: TestServer): Promise<{ url: string; token: string }> {
  const log = await server.settledLog(SETUP_LINK);
  const m = log.match(SETUP_LINK);
  if (!m) throw new Error(`no setup link in the log:\n${log}`);
  return { url: m[1]!, token: m[2]! };
}

const heading = (page: Page) => page.locator('h1').textContent();

describe('a fresh install', () => {
  it('says in one JSON boot line where it listens, which stores it uses, and where to create the first admin', async () => {
    const log = await gh.settledLog(SETUP_LINK);
    const lines = log.split('\n').filter((l) => l.trim());
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // stdout is a pipe: JSON, not pino-pretty
    const boot = lines.map((l) => JSON.parse(l) as { msg: string; level: number; admin?: string }).find((l) => l.msg.startsWith('Gatehouse listening on'))!;
    expect(boot.level).toBe(30); // info
    expect(boot.admin).toBe('none');
    expect(boot.msg).toMatch(new RegExp(`^Gatehouse listening on http://localhost:${gh.port} \\(issuer ${gh.issuer.replace(/\./g, '\\.')}\\) — PostgreSQL at [^ ]+:\\d+/gh_test_\\w+, Redis at 127\\.0\\.0\\.1:6379 — admin: none yet: open ${gh.issuer.replace(/\./g, '\\.')}/setup/[A-Za-z0-9_-]{43} to create the first`));
    const password = new URL(gh.env.DATABASE_URL!).password;
    if (password) expect(log).not.toContain(password);
  });

  it('shows what Gatehouse is and what to do next at /, in the visitor\'s language', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const res = await page.goto(`${gh.issuer}/`);
    expect(res!.status()).toBe(200);
    expect(await heading(page)).toBe('Welcome to Gatehouse');
    await expect(page.getByRole('heading', { name: '1. Create the first administrator' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: 'Open Clients in the console' }).getAttribute('href')).resolves.toBe('/admin/clients');
    await expect(page.getByRole('link', { name: 'Your account' }).getAttribute('href')).resolves.toBe('/account');
    await expect(page.getByRole('link', { name: 'Administration console' }).getAttribute('href')).resolves.toBe('/admin');
    await expect(page.getByRole('link', { name: 'OpenID Connect discovery document' }).getAttribute('href')).resolves.toBe('/.well-known/openid-configuration');
    expect(await page.locator('main').textContent()).toContain(gh.issuer);
    await expectAccessible(page, 'home (fresh)');
    await screenshot(page, 'first-run-home');
    await context.close();

    const german = await browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'de-DE' });
    const de = await german.newPage();
    await de.goto(`${gh.issuer}/`);
    expect(await heading(de)).toBe('Willkommen bei Gatehouse');
    await expect(de.locator('html').getAttribute('lang')).resolves.toBe('de');
    await expect(de.getByRole('heading', { name: '1. Ersten Administrator anlegen' }).isVisible()).resolves.toBe(true);
    await screenshot(de, 'first-run-home-de');
    await german.close();

    // /setup without the link (or with a made-up one) says how to get a new link
    const stranger = await newContext(browser);
    const lost = await stranger.newPage();
    const res2 = await lost.goto(`${gh.issuer}/setup/${'x'.repeat(43)}`);
    expect(res2!.status()).toBe(410);
    expect(lost.url()).toBe(`${gh.issuer}/setup`);
    expect(await heading(lost)).toBe('This setup link no longer works');
    await expect(lost.locator('.lead').textContent()).resolves.toMatch(/Restart Gatehouse: it prints a new link in its log/);
    await expectAccessible(lost, 'setup link unknown');
    await screenshot(lost, 'first-run-setup-unknown');
    await stranger.close();

    const fr = await fetch(`${gh.issuer}/`, { headers: { 'accept-language': 'fr-CA, en;q=0.5' } });
    expect(fr.headers.get('content-language')).toBe('fr');
    expect(await fr.text()).toContain('Bienvenue sur Gatehouse');
  });

  it('the setup link creates the first administrator once, then stops working', async () => {
    const { url, token } = await setupLinkOf(gh);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(url);
    // the token moved into a cookie; the address bar no longer holds it
    expect(page.url()).toBe(`${gh.issuer}/setup`);
    expect(await heading(page)).toBe('Create the first administrator');
    const cookie = (await context.cookies()).find((c) => c.name === 'gh_setup')!;
    expect(cookie).toMatchObject({ httpOnly: true, path: '/setup' });
    await expectAccessible(page, 'setup');
    await screenshot(page, 'first-run-setup');

    // a password with the email's name in it is refused, next to its field
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Name').fill(ADMIN.name);
    await page.getByLabel('Password', { exact: true }).fill('Owner-harbour-lantern');
    await page.getByLabel('Password again').fill('Owner-harbour-lantern');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    const password = page.getByLabel('Password', { exact: true });
    await expect(password.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(password.getAttribute('aria-describedby')).resolves.toBe('password-hint password-error');
    await expect(page.locator('#password-error').textContent()).resolves.toBe('The password contains “owner” from the email address, so it is easy to guess. Choose a password without it.');
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(ADMIN.email); // what was typed stays
    await expectAccessible(page, 'setup with an error');
    await screenshot(page, 'first-run-setup-error');

    // the passwords must match
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill('something else entirely');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect(page.locator('#confirm_password-error').textContent()).resolves.toMatch(/not the same/);

    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    // on to the console, which asks the new administrator to sign in
    await page.waitForURL(/\/interaction\//);
    await signInAs(page, ADMIN.email, ADMIN.password);
    await page.waitForURL(/\/(mfa-setup|admin)/); // the console may ask for a second factor first
    const user = await gh.cliJson<{ email: string; name: string; roles: string[]; email_verified: boolean }>(['users', 'show', ADMIN.email]);
    expect(user).toMatchObject({ email: ADMIN.email, name: ADMIN.name, roles: ['admin'], email_verified: true });

    // the link is dead: in another browser, and in this one
    const other = await newContext(browser);
    const again = await other.newPage();
    const res = await again.goto(url);
    expect(res!.status()).toBe(410);
    expect(await heading(again)).toBe('This setup link no longer works');
    await expect(again.getByRole('link', { name: 'Open the administration console' }).getAttribute('href')).resolves.toBe('/admin');
    await expectAccessible(again, 'setup link used');
    await screenshot(again, 'first-run-setup-used');
    const post = await page.request.post(`${gh.issuer}/setup`, { form: { email: 'second@example.test', name: 'Second', password: ADMIN.password, confirm_password: ADMIN.password } });
    expect(post.status()).toBeGreaterThanOrEqual(400);
    expect((await gh.cli(['users', 'show', 'second@example.test'])).code).not.toBe(0);
    await other.close();
    await context.close();

    // the request log holds the route's pattern, never the token (only the boot line has it)
    const log = await gh.settledLog();
    expect(log.split(token).length - 1).toBe(1);
    expect(log).toContain('"path":"/setup/:token"');
  });

  it('then `/` is a small landing page, and /favicon.ico an icon', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const res = await page.goto(`${gh.issuer}/`);
    expect(res!.status()).toBe(200);
    expect(await heading(page)).toBe('Gatehouse');
    await expect(page.getByRole('link', { name: 'Sign in to your account' }).getAttribute('href')).resolves.toBe('/account');
    await expectAccessible(page, 'home (landing)');
    await screenshot(page, 'first-run-landing');
    await context.close();

    const icon = await fetch(`${gh.issuer}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/x-icon');
    const bytes = new Uint8Array(await icon.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0, 0, 1, 0]); // an ICO header
  });
});

describe('an operator\'s choices', () => {
  let first: TestServer;
  let second: TestServer;
  afterAll(async () => { await second?.stop(); await first?.destroy(); });

  it('GATEHOUSE_ADMIN_EMAIL creates the admin (said in the boot line); GATEHOUSE_HOME=off makes / a 404 with a way on', async () => {
    first = await startServer({ env: { GATEHOUSE_ADMIN_EMAIL: 'ops@example.test', GATEHOUSE_ADMIN_PASSWORD: 'correct horse battery 42', GATEHOUSE_HOME: 'off', GATEHOUSE_BRAND_NAME: 'Acme ID' } });
    const log = await first.settledLog(/Gatehouse listening/);
    expect(log).toMatch(/— admin: ops@example\.test was just created from GATEHOUSE_ADMIN_EMAIL"/);
    expect(log).not.toContain('correct horse battery 42');
    expect(log).not.toMatch(SETUP_LINK);

    const context = await newContext(browser);
    const page = await context.newPage();
    const res = await page.goto(`${first.issuer}/`);
    expect(res!.status()).toBe(404);
    expect(await heading(page)).toBe('There is no page here');
    await expect(page.getByRole('link', { name: 'Go to your account' }).getAttribute('href')).resolves.toBe('/account');
    expect(await page.title()).toBe('Page not found · Acme ID');
    await expectAccessible(page, 'home (off)');
    await screenshot(page, 'first-run-home-off');
    await context.close();
  });

  it('GATEHOUSE_HOME=<https URL> redirects / (and a favicon URL /favicon.ico); a second node sees the admin exists', async () => {
    second = await startServer({ shareWith: first, env: { GATEHOUSE_HOME: 'https://www.example.com/welcome', GATEHOUSE_BRAND_FAVICON_URL: 'https://cdn.example.com/acme.ico' } });
    expect(await second.settledLog(/Gatehouse listening/)).toMatch(/— admin: ops@example\.test exists"/);
    const res = await fetch(`${second.issuer}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://www.example.com/welcome');
    const icon = await fetch(`${second.issuer}/favicon.ico`, { redirect: 'manual' });
    expect(icon.status).toBe(302);
    expect(icon.headers.get('location')).toBe('https://cdn.example.com/acme.ico');
  });
});

describe('refusing to start, in one sentence', () => {
  let blocker: TcpServer | undefined;
  afterAll(async () => { await new Promise((r) => (blocker ? blocker.close(r) : r(undefined))); });

  it('a busy port says "set PORT" and exits non-zero, without a stack trace', async () => {
    const port = await freePort();
    blocker = createTcpServer();
    await new Promise<void>((r) => blocker!.listen(port, r));
    const server = await startServer({ noWait: true, env: { PORT: String(port) } });
    try {
      expect(await server.exited()).toBe(1);
      expect(server.stderr()).toBe(`gatehouse: Port ${port} is in use by another program; set PORT to a free port (e.g. PORT=${port + 1} npm start)\n`);
      expect(server.log()).not.toMatch(/^\s+at /m);
    } finally {
      await server.destroy();
    }
  });

  it('an admin password that contains the email\'s name is refused at boot, saying so', async () => {
    const server = await startServer({ noWait: true, env: { GATEHOUSE_ADMIN_EMAIL: 'admin@x.com', GATEHOUSE_ADMIN_PASSWORD: 'admin12345678' } });
    try {
      expect(await server.exited()).toBe(1);
      expect(server.stderr()).toBe('gatehouse: GATEHOUSE_ADMIN_PASSWORD contains "admin", the name in GATEHOUSE_ADMIN_EMAIL (admin@x.com), so it is easy to guess. Choose a password without it.\n');
      expect(server.log()).not.toContain('"admin12345678"');
    } finally {
      await server.destroy();
    }
  });
});
