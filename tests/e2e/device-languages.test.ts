// The device pages and the mail in the recipient's language (German, French), an expired user code
// told apart from a wrong one (and not counted against the person), and the CLI's plain answers:
// a confidential client, an issuer without its scheme, `users list` with a header row, and the
// launcher that runs on any system Node without npm's engine warnings.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, csrfOf, type Page as AgentPage } from '../../harness/http-agent.ts';
import { launchBrowser, screenshot, VIEWPORTS } from '../support/browser.ts';
import { expectAccessible } from '../support/axe.ts';
import { waitForMessages } from '../support/outbox.ts';
import { DEVICE_LIMITS } from '../../src/security/rate-limit.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery staple';
const SCOPE = 'openid profile email offline_access';
const SHORT_TTL = 5;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SUPPORT_URL = 'https://help.example.test/gatehouse';

interface Deployment { gh: TestServer; clientId: string; deviceEndpoint: string }

let main: Deployment;
let short: Deployment; // GATEHOUSE_DEVICE_CODE_TTL=5: codes that expire while the test waits
let browser: Browser;
const contexts: BrowserContext[] = [];
const homes: string[] = [];
const unique = (who: string) => `${who}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`;

async function deploy(env: Record<string, string>): Promise<Deployment> {
  const gh = await startServer({ env });
  const client = await gh.cliJson(['clients', 'create', '--name', 'Gatehouse CLI', '--public', '--grant-types', 'device_code,refresh_token', '--scopes', SCOPE]);
  const discovery = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json() as { device_authorization_endpoint: string };
  return { gh, clientId: client.client_id, deviceEndpoint: discovery.device_authorization_endpoint };
}

beforeAll(async () => {
  [main, short, browser] = await Promise.all([
    deploy({ GATEHOUSE_BRAND_NAME: 'Example ID', GATEHOUSE_SUPPORT_URL: SUPPORT_URL }),
    deploy({ GATEHOUSE_DEVICE_CODE_TTL: String(SHORT_TTL) }),
    launchBrowser(),
  ]);
}, 180_000); // two servers: slow on a busy machine
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  for (const d of [main, short]) await d?.gh.destroy();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

async function authorize(d: Deployment, extra: Record<string, string> = {}) {
  const r = await fetch(d.deviceEndpoint, { method: 'POST', body: new URLSearchParams({ client_id: d.clientId, scope: SCOPE, ...extra }) });
  expect(r.status).toBe(200);
  return r.json() as Promise<{ device_code: string; user_code: string }>;
}

const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const h1 = (page: AgentPage) => /<h1[^>]*>([^<]*)<\/h1>/.exec(page.html)?.[1];
const alert = (page: AgentPage) => /<div class="alert"[^>]*>([^<]*)<\/div>/.exec(page.html)?.[1];

async function submitCode(d: Deployment, agent: Agent, userCode: string, headers: Record<string, string> = {}): Promise<AgentPage> {
  const page = await agent.go(`${d.gh.issuer}/device`, { headers });
  return agent.go(`${d.gh.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf: xsrfOf(page.html), user_code: userCode }), headers: { ...FORM, ...headers } });
}

async function browserIn(locale: string): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop, locale });
  contexts.push(context);
  return context.newPage();
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

const WORDS = {
  de: {
    code: 'Gerät verbinden', label: 'Code', submit: 'Weiter', wrong: 'Dieser Code stimmt nicht.',
    confirm: 'Gatehouse CLI zulassen?', scope: 'Ihre E-Mail-Adresse sehen', allow: 'Zulassen', deny: 'Ablehnen', denied: 'Zugriff verweigert',
    next: 'Als Nächstes melden Sie sich an.',
  },
  fr: {
    code: 'Connecter un appareil', label: 'Code', submit: 'Continuer', wrong: 'Ce code n’est pas le bon.',
    confirm: 'Autoriser Gatehouse CLI\u00a0?', scope: 'Voir votre adresse e-mail', allow: 'Autoriser', deny: 'Refuser', denied: 'Accès refusé',
    next: 'Vous allez ensuite vous connecter.',
  },
} as const;

describe('the device pages in German and French', () => {
  it.each(['de', 'fr'] as const)('%s: the code, confirm and done pages are translated and accessible', async (lang) => {
    const w = WORDS[lang];
    const page = await browserIn(lang === 'de' ? 'de-DE' : 'fr-FR');
    const auth = await authorize(main);
    await page.goto(`${main.gh.issuer}/device`);
    expect(await page.getAttribute('html', 'lang')).toBe(lang);
    expect(await heading(page)).toBe(w.code);
    await expectAccessible(page, `device-code-${lang}`);
    await screenshot(page, `device-code-${lang}`);

    // a wrong code: the error in the same language, on the field
    await page.getByLabel(w.label).fill('BBBB-BBBB');
    await page.getByRole('button', { name: w.submit }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(w.wrong);
    expect(await page.getByLabel(w.label).getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, `device-code-wrong-${lang}`);
    await screenshot(page, `device-code-wrong-${lang}`);

    await page.getByLabel(w.label).fill(auth.user_code);
    await page.getByRole('button', { name: w.submit }).click();
    await page.getByRole('button', { name: w.allow, exact: true }).waitFor();
    expect(await heading(page)).toBe(w.confirm);
    const text = await page.locator('main').innerText();
    expect(text).toContain(w.scope);
    expect(text).toContain(w.next);
    await expectAccessible(page, `device-confirm-${lang}`);
    await screenshot(page, `device-confirm-${lang}`);

    await page.getByRole('button', { name: w.deny, exact: true }).click();
    await page.getByRole('heading', { name: w.denied }).waitFor();
    await expectAccessible(page, `device-done-${lang}`);
    await screenshot(page, `device-done-${lang}`);
  });

  it('speaks the language the device asked for (ui_locales) before the browser\'s', async () => {
    const auth = await authorize(main, { ui_locales: 'fr' });
    const confirmPage = await submitCode(main, new Agent(), auth.user_code, { 'accept-language': 'de' });
    expect(h1(confirmPage)).toBe(WORDS.fr.confirm);
  });
});

describe('an expired user code', () => {
  it('says so in plain words and is not a wrong guess: the next right code still works', async () => {
    const auth = await authorize(short);
    // the code outlives its lifetime (and leaves the store)
    await new Promise((r) => setTimeout(r, (SHORT_TTL + 2) * 1000));
    const agent = new Agent();
    for (let i = 0; i < DEVICE_LIMITS.session.points + 2; i++) {
      const page = await submitCode(short, agent, auth.user_code.toLowerCase());
      expect(page.status).toBe(400);
      expect(alert(page)).toBe('This code has expired — start again in your terminal.');
    }
    const german = await submitCode(short, agent, auth.user_code, { 'accept-language': 'de' });
    expect(alert(german)).toBe('Dieser Code ist abgelaufen — beginnen Sie in Ihrem Terminal von vorn.');
    // not blocked: the session spent no wrong guesses
    const next = await authorize(short);
    expect(h1(await submitCode(short, agent, next.user_code))).toBe('Allow Gatehouse CLI?');
    // while a code that was never issued still counts
    const wrong = await submitCode(short, agent, 'BBBB-BBBB');
    expect(alert(wrong)).toContain('That code is not right.');
  });
});

// ---- mail ---------------------------------------------------------------------------------------

async function createUser(d: Deployment, email: string): Promise<void> {
  const r = await d.gh.cli(['users', 'create', '--email', email, '--password-stdin', '--name', 'Ada Lovelace'], { input: PASSWORD });
  if (r.code !== 0) throw new Error(r.stderr);
}

async function setLocale(d: Deployment, email: string, locale: string): Promise<void> {
  const db = new pg.Client({ connectionString: d.gh.env.DATABASE_URL });
  await db.connect();
  try { await db.query('update users set locale = $1 where email = $2', [locale, email]); } finally { await db.end(); }
}

/** Asks for a password reset link the way the hosted page does, in the browser's language. */
async function forgot(d: Deployment, email: string, acceptLanguage: string): Promise<void> {
  const agent = new Agent();
  const form = await agent.go(`${d.gh.issuer}/account/forgot`, { headers: { 'accept-language': acceptLanguage } });
  const answer = await agent.go(`${d.gh.issuer}/account/forgot`, {
    method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(form.html), email }), headers: { ...FORM, 'accept-language': acceptLanguage },
  });
  expect(answer.status).toBeLessThan(400);
}

/** Quoted-printable to text, byte runs decoded as UTF-8 (tests/support/outbox.ts reads them as Latin-1). */
const qp = (text: string) => text.replace(/(?:=[0-9A-F]{2})+/gi, (run) => Buffer.from(run.replace(/=/g, ''), 'hex').toString('utf8'));

/** The newest message to `to` in the dev outbox: its decoded subject and text (headers and both parts). */
async function mailTo(dataDir: string, to: string): Promise<{ subject: string; text: string }> {
  await waitForMessages(dataDir, to);
  const dir = join(dataDir, 'outbox');
  const raw = readdirSync(dir).sort().map((f) => readFileSync(join(dir, f), 'utf8')).filter((m) => m.includes(`To: ${to}`)).at(-1)!;
  const folded = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
  const subject = folded.replace(/\r?\n[ \t]/g, ' ').replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_, q: string) => qp(q.replace(/_/g, ' ')));
  return { subject, text: qp(raw.replace(/=\r?\n/g, '')) };
}

describe('mail in the recipient\'s language', () => {
  it('goes out in German to a user whose locale is de, whatever the browser asked, with the brand and the support link', async () => {
    const email = unique('deutsch');
    await createUser(main, email);
    await setLocale(main, email, 'de');
    await forgot(main, email, 'en-US');
    const { subject, text: mail } = await mailTo(main.gh.dataDir, email);
    expect(subject).toBe('Setzen Sie Ihr Passwort zurück');
    expect(mail).toMatch(/^Content-Language: de$/m);
    expect(mail).toContain('Jemand (hoffentlich Sie) hat beantragt, das Passwort Ihres Kontos zurückzusetzen.');
    expect(mail).toContain('Neues Passwort wählen');
    expect(mail).toMatch(/\/account\/reset\?token=[A-Za-z0-9_-]{43}/);
    expect(mail).toContain('Diese Nachricht wurde von Example ID gesendet.');
    expect(mail).toContain(SUPPORT_URL);
    expect(mail).not.toContain('Hello,');
  });

  it('goes out in the language of the request when the user has none', async () => {
    const email = unique('francais');
    await createUser(main, email);
    await forgot(main, email, 'fr-CA, en;q=0.5');
    const { subject, text: mail } = await mailTo(main.gh.dataDir, email);
    expect(subject).toBe('Réinitialisez votre mot de passe');
    expect(mail).toContain('Choisir un nouveau mot de passe');
    expect(mail).toContain('Ce message vous a été envoyé par Example ID.');
  });
});

// ---- the CLI -------------------------------------------------------------------------------------

interface Run { code: number | null; stdout: string; stderr: string }

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(command, args, { cwd: ROOT, env });
  let stdout = ''; let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

function userEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  homes.push(dir);
  return { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: dir };
}

const gatehouse = (args: string[], env = userEnv()) => run(process.execPath, ['bin/gatehouse.js', ...args], env);

describe('the CLI', () => {
  it('tells a confidential client from an unknown one', async () => {
    const confidential = await main.gh.cliJson(['clients', 'create', '--name', 'Server App', '--redirect-uri', 'http://127.0.0.1:7999/cb']);
    expect(confidential.client_secret).toEqual(expect.any(String));
    const r = await gatehouse(['login', '--issuer', main.gh.issuer, '--client-id', confidential.client_id, '--no-browser']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The client "${confidential.client_id}" is confidential`);
    expect(r.stderr).toContain('use a public client (gatehouse clients create --public');
    expect(r.stderr).not.toContain('does not know');
    const unknown = await gatehouse(['login', '--issuer', main.gh.issuer, '--client-id', 'no-such-client', '--no-browser']);
    expect(unknown.stderr).toContain('does not know the client ID "no-such-client"');
  });

  it('suggests the scheme for an issuer given without one', async () => {
    const local = await gatehouse(['login', '--issuer', 'localhost:3000', '--client-id', 'x', '--no-browser']);
    expect(local.code).toBe(2);
    expect(local.stderr).toBe('gatehouse: --issuer needs its scheme: did you mean --issuer http://localhost:3000 ?\n');
    const loopback = await gatehouse(['login', '--issuer', '127.0.0.1:8080/', '--client-id', 'x', '--no-browser']);
    expect(loopback.stderr).toContain('did you mean --issuer http://127.0.0.1:8080 ?');
    const remote = await gatehouse(['login', '--issuer', 'id.example.com', '--client-id', 'x', '--no-browser']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('did you mean --issuer https://id.example.com ?');
  });

  it('lists users under a header row, and --json is unchanged', async () => {
    const email = unique('listed');
    await createUser(main, email);
    const r = await main.gh.cli(['users', 'list']);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+EMAIL\s+NAME\s+VERIFIED\s+ROLES\s+STATUS$/);
    const row = rows.find((l) => l.includes(email));
    expect(row).toMatch(/Ada Lovelace\s+no\s+-\s+active$/);
    const json = await main.gh.cliJson(['users', 'list']);
    expect(json.find((u: { email: string }) => u.email === email)).toEqual(expect.objectContaining({ email, name: 'Ada Lovelace', roles: [], disabled: false, email_verified: false }));
  });

  it('starts from the system PATH\'s node, whatever its version, without npm warnings', async () => {
    // the launcher as a global link runs it: by its #! line, on whatever `node` the PATH has first
    const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')).join(':');
    const r = await run(join(ROOT, 'bin/gatehouse.js'), ['--help'], { PATH: path, HOME: tmpdir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: gatehouse');
    const whoami = await run(join(ROOT, 'bin/gatehouse.js'), ['whoami'], { ...userEnv(), PATH: path });
    expect(whoami.stderr).toBe('gatehouse: You are not signed in: run gatehouse login --issuer URL --client-id ID.\n');
    expect(whoami.code).toBe(1);
  });
});
