// The device flow end to end: `gatehouse login` runs in a child process against a running server,
// the user approves in headless Chromium, and the saved tokens work for token, whoami and logout.
// Then the protocol edges straight over HTTP: RFC 8628's polling answers (authorization_pending,
// slow_down, expired_token, access_denied), a replayed device code, CSRF on the confirm form,
// disabled accounts, and the rate limit on wrong user codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, formAction, type Page as AgentPage } from '../../harness/http-agent.ts';
import { launchBrowser, newContext, screenshot } from '../support/browser.ts';
import { DEVICE_LIMITS } from '../../src/security/rate-limit.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery staple';
const SCOPE = 'openid profile email offline_access';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const SHORT_TTL = 5;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Deployment { gh: TestServer; clientId: string; discovery: { device_authorization_endpoint: string; token_endpoint: string; revocation_endpoint: string } }

let main: Deployment;
let short: Deployment; // GATEHOUSE_DEVICE_CODE_TTL=5; also the rate-limit tests' own counters
let browser: Browser;
const contexts: BrowserContext[] = [];
const homes: string[] = [];
const unique = (who: string) => `${who}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.test`;

async function deploy(env?: Record<string, string>): Promise<Deployment> {
  const gh = await startServer({ env });
  const client = await gh.cliJson(['clients', 'create', '--name', 'Gatehouse CLI', '--public', '--grant-types', 'device_code,refresh_token', '--scopes', SCOPE]);
  const discovery = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json();
  return { gh, clientId: client.client_id, discovery };
}

async function user(d: Deployment, name = 'Ada Lovelace'): Promise<string> {
  const email = unique(name.split(' ')[0]!.toLowerCase());
  const r = await d.gh.cli(['users', 'create', '--email', email, '--password-stdin', '--name', name], { input: PASSWORD });
  if (r.code !== 0) throw new Error(r.stderr);
  return email;
}

/** One account per test that signs in on `main` (some get disabled), created up front in parallel. */
let people: Record<'signIn' | 'profileA' | 'profileB' | 'replay' | 'disabled' | 'outlived', string>;

beforeAll(async () => {
  [main, short, browser] = await Promise.all([deploy(), deploy({ GATEHOUSE_DEVICE_CODE_TTL: String(SHORT_TTL) }), launchBrowser()]);
  const [signIn, profileA, profileB, replay, disabled, outlived] = await Promise.all([
    user(main), user(main), user(main, 'Grace Hopper'), user(main), user(main), user(main, 'Grace Hopper'),
  ]);
  people = { signIn, profileA, profileB, replay, disabled, outlived };
}, 180_000); // two servers and six accounts through the CLI: slow on a busy machine
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  for (const d of [main, short]) {
    const failures = d?.gh.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
    if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
    await d?.gh.destroy();
  }
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

// ---- the CLI in a child process -------------------------------------------------------------

/** A user's home for the CLI: XDG_CONFIG_HOME in a fresh temp folder. */
function home(): { env: NodeJS.ProcessEnv; credentials: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  homes.push(dir);
  return { env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: dir }, credentials: join(dir, 'gatehouse', 'credentials.json'), dir };
}

interface Run { code: number | null; stdout: string; stderr: string }

function gatehouse(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; done: Promise<Run>; output: () => string } {
  const child = spawn(process.execPath, ['bin/gatehouse.js', ...args], { cwd: ROOT, env });
  let stdout = ''; let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<Run>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done, output: () => stdout };
}

const cli = (args: string[], env: NodeJS.ProcessEnv) => gatehouse(args, env).done;

/** Starts `gatehouse login` and resolves with what it printed for the user. */
async function startLogin(d: Deployment, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const run = gatehouse(['login', '--issuer', d.gh.issuer, '--client-id', d.clientId, '--scope', SCOPE, '--no-browser', ...extra], env);
  const until = Date.now() + 15_000;
  for (;;) {
    const out = run.output();
    const uri = /^\s+(http\S+\/device)$/m.exec(out)?.[1];
    const code = /enter the code:\s+(\S+)/.exec(out)?.[1];
    const complete = /^Or open (\S+)$/m.exec(out)?.[1];
    if (uri && code && complete && out.includes('Waiting for approval')) return { ...run, uri, code, complete };
    if (run.child.exitCode !== null || Date.now() > until) throw new Error(`login printed no code:\n${out}\n${(await run.done).stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the user, in Chromium ------------------------------------------------------------------

async function freshPage(): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  return context.newPage();
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

/** Clicks a button, then waits for what the next page shows (a POST may answer on the same URL). */
async function click(page: Page, name: string, next: () => Promise<unknown>) {
  await page.getByRole('button', { name, exact: true }).click();
  await next();
}

/** Types the code the way a hurried person might: lower case, no dash. */
async function enterCode(page: Page, uri: string, code: string) {
  await page.goto(uri);
  expect(await heading(page)).toBe('Connect a device');
  await screenshot(page, 'device-code');
  await page.getByLabel('Code').fill(code.toLowerCase().replace('-', ''));
  await click(page, 'Continue', () => page.getByRole('button', { name: 'Allow' }).waitFor());
}

// ---- the protocol, over HTTP ----------------------------------------------------------------

async function authorize(d: Deployment, scope = SCOPE) {
  const r = await fetch(d.discovery.device_authorization_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: d.clientId, scope }) });
  expect(r.status).toBe(200);
  return r.json() as Promise<{ device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; expires_in: number; interval: number }>;
}

async function poll(d: Deployment, deviceCode: string) {
  const r = await fetch(d.discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: d.clientId, grant_type: DEVICE_GRANT, device_code: deviceCode }) });
  return { status: r.status, body: await r.json() as Record<string, any> };
}

async function refresh(d: Deployment, refreshToken: string) {
  const r = await fetch(d.discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: d.clientId, grant_type: 'refresh_token', refresh_token: refreshToken }) });
  return { status: r.status, body: await r.json() as Record<string, any> };
}

const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const h1 = (page: AgentPage) => /<h1[^>]*>([^<]*)<\/h1>/.exec(page.html)?.[1];

/** The code page, then a POST of `userCode`: the confirm page when the code is right. */
async function submitCode(d: Deployment, agent: Agent, userCode: string): Promise<AgentPage> {
  const page = await agent.go(`${d.gh.issuer}/device`);
  return agent.go(`${d.gh.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf: xsrfOf(page.html), user_code: userCode }), headers: FORM });
}

async function confirm(d: Deployment, agent: Agent, confirmPage: AgentPage, userCode: string, fields: Record<string, string> = { confirm: 'yes' }) {
  return agent.go(`${d.gh.issuer}/device`, { method: 'POST', body: new URLSearchParams({ xsrf: xsrfOf(confirmPage.html), user_code: userCode, ...fields }), headers: FORM });
}

/** Enter the code, allow, sign in: what the browser tests do, without the browser. */
async function approve(d: Deployment, agent: Agent, userCode: string, email: string): Promise<AgentPage> {
  const page = await confirm(d, agent, await submitCode(d, agent, userCode), userCode);
  if (!page.url.includes('/interaction/')) return page;
  return agent.submit(page, formAction(page.html, '/login'), { email, password: PASSWORD });
}

// ---- the tests ------------------------------------------------------------------------------

describe('gatehouse login, token, whoami, logout', () => {
  it('signs in from a terminal, approved in the browser, and the tokens work', async () => {
    const email = people.signIn;
    const h = home();
    const login = await startLogin(main, h.env);
    expect(login.code).toMatch(USER_CODE);
    expect(login.uri).toBe(`${main.gh.issuer}/device`);
    expect(login.complete).toBe(`${main.gh.issuer}/device?user_code=${login.code}`);
    expect(login.output()).toContain('Waiting for approval (the code expires in 10 minutes)');

    const page = await freshPage();
    await enterCode(page, login.uri, login.code);
    expect(await heading(page)).toBe('Allow Gatehouse CLI?');
    expect(await page.locator('.user-code-display').textContent()).toBe(login.code);
    expect(await page.locator('.scopes li').allTextContents()).toEqual(expect.arrayContaining(['See your email address', 'Stay signed in while you are away']));
    expect(await page.locator('.request-facts time').textContent()).toBe('just now');
    expect(await page.locator('.request-facts').textContent()).toContain('gatehouse-cli');
    await screenshot(page, 'device-confirm');
    await click(page, 'Allow', () => page.waitForURL(/\/interaction\//));
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await click(page, 'Sign in', () => page.getByRole('heading', { name: 'You are signed in' }).waitFor());
    expect(await heading(page)).toBe('You are signed in');
    expect(await page.locator('.lead').textContent()).toContain('Return to your terminal');
    await screenshot(page, 'device-done');

    const run = await login.done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`✓ Signed in to ${main.gh.issuer} as ${email}.`);
    expect(statSync(h.credentials).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.dir, 'gatehouse')).mode & 0o777).toBe(0o700);

    // token: a bearer token the account API accepts
    const token = await cli(['token'], h.env);
    expect(token.code).toBe(0);
    const accessToken = token.stdout.trim();
    const me = await fetch(`${main.gh.issuer}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    expect((await me.json()).email).toBe(email);

    const whoami = await cli(['whoami'], h.env);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toContain(`${email} (Ada Lovelace)`);
    expect(whoami.stdout).toContain(`issuer:     ${main.gh.issuer}`);

    // an expired access token is refreshed, and the refresh token rotates: once, however many
    // commands ask at the same moment (a rotated refresh token used twice would end the session)
    const before = JSON.parse(readFileSync(h.credentials, 'utf8'));
    before.profiles.default.expires_at = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(h.credentials, JSON.stringify(before));
    const parallel = await Promise.all([1, 2, 3].map(() => cli(['token'], h.env)));
    expect(parallel.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(new Set(parallel.map((r) => r.stdout)).size).toBe(1);
    expect(parallel[0]!.stdout.trim()).not.toBe(accessToken);
    const after = JSON.parse(readFileSync(h.credentials, 'utf8')).profiles.default;
    expect(after.refresh_token).toBeTruthy();
    expect(after.refresh_token).not.toBe(before.profiles.default.refresh_token);
    expect(after.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(statSync(h.credentials).mode & 0o777).toBe(0o600);

    // logout revokes at the issuer and forgets locally
    const logout = await cli(['logout'], h.env);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain('the session was revoked');
    expect(JSON.parse(readFileSync(h.credentials, 'utf8')).profiles).toEqual({});
    expect((await refresh(main, after.refresh_token)).body.error).toBe('invalid_grant');
    expect((await fetch(`${main.gh.issuer}/api/me`, { headers: { authorization: `Bearer ${after.access_token}` } })).status).toBe(401);

    const signedOut = await cli(['token'], h.env);
    expect(signedOut.code).toBe(1);
    expect(signedOut.stderr).toBe('gatehouse: You are not signed in: run gatehouse login --issuer URL --client-id ID.\n');
  });

  it('keeps several profiles side by side', async () => {
    const [ada, grace] = [people.profileA, people.profileB];
    const h = home();
    const logins = await Promise.all([startLogin(main, h.env), startLogin(main, h.env, ['--profile', 'work'])]);
    await Promise.all([approve(main, new Agent(), logins[0].code, ada), approve(main, new Agent(), logins[1].code, grace)]);
    expect((await Promise.all(logins.map((l) => l.done))).map((r) => r.code)).toEqual([0, 0]);
    expect(Object.keys(JSON.parse(readFileSync(h.credentials, 'utf8')).profiles).sort()).toEqual(['default', 'work']);
    expect((await cli(['whoami'], h.env)).stdout).toContain(ada);
    const work = await cli(['whoami', '--profile', 'work', '--json'], h.env);
    expect(JSON.parse(work.stdout)).toEqual(expect.objectContaining({ profile: 'work', userinfo: expect.objectContaining({ email: grace, name: 'Grace Hopper' }) }));
    expect((await cli(['logout', '--profile', 'work'], h.env)).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(h.credentials, 'utf8')).profiles)).toEqual(['default']);
    expect((await cli(['token'], h.env)).code).toBe(0);

    // the account is disabled: the next refresh fails, and the CLI says what to do
    expect((await main.gh.cli(['users', 'disable', ada])).code).toBe(0);
    const file = JSON.parse(readFileSync(h.credentials, 'utf8'));
    file.profiles.default.expires_at = 0;
    writeFileSync(h.credentials, JSON.stringify(file));
    const ended = await cli(['token'], h.env);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toBe('gatehouse: Your session has ended: run gatehouse login.\n');
  });

  it('ends with one sentence and exit 1 when the user denies, or lets the code expire', async () => {
    // both wait for a poll of the CLI, so they run side by side
    const denied = async () => {
      const login = await startLogin(main, home().env);
      const page = await freshPage();
      await page.goto(login.complete); // verification_uri_complete: straight to the confirm page
      await page.getByRole('button', { name: 'Deny' }).waitFor();
      expect(await page.locator('.user-code-display').textContent()).toBe(login.code);
      await click(page, 'Deny', () => page.getByRole('heading', { name: 'Access denied' }).waitFor());
      await screenshot(page, 'device-denied');
      const run = await login.done;
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('gatehouse: The sign-in was denied in the browser: run gatehouse login again if that was a mistake.\n');
    };
    const expired = async () => {
      const run = await (await startLogin(short, home().env)).done;
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('gatehouse: The code expired before it was approved: run gatehouse login again and approve it within 1 minute.\n');
    };
    const expiredToken = async () => {
      const auth = await authorize(short);
      expect(auth.expires_in).toBe(SHORT_TTL);
      await new Promise((r) => setTimeout(r, (SHORT_TTL + 1) * 1000));
      expect(await poll(short, auth.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'expired_token' }) });
    };
    await Promise.all([denied(), expired(), expiredToken()]);
  });

  it('says what to do about an unreachable issuer, an unknown client and bad options', async () => {
    const { env } = home();
    const down = await cli(['login', '--issuer', 'http://127.0.0.1:9', '--client-id', 'x', '--no-browser'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe('gatehouse: Cannot reach the issuer at http://127.0.0.1:9: check the URL and your network connection, and that the server is running.\n');
    const unknown = await cli(['login', '--issuer', main.gh.issuer, '--client-id', 'no-such-client', '--no-browser'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('does not know the client ID "no-such-client"');
    const alias = await cli(['login', '--issuer', `http://localhost:${main.gh.port}`, '--client-id', main.clientId, '--no-browser'], env);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toBe(`gatehouse: The issuer at http://localhost:${main.gh.port} calls itself ${main.gh.issuer}: use --issuer ${main.gh.issuer}.\n`);
    const insecure = await cli(['login', '--issuer', 'http://id.example.com', '--client-id', 'x'], env);
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toContain('plain http is only allowed for localhost');
    expect((await cli(['login', '--no-such-flag'], env)).code).toBe(2);
    const help = await cli(['login', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--workspace <slug>');
  });
});

describe('device flow protocol', () => {
  it('advertises the endpoint and issues short unambiguous codes with an interval', async () => {
    expect(main.discovery.device_authorization_endpoint).toBe(`${main.gh.issuer}/device/auth`);
    const auth = await authorize(main);
    expect(auth.user_code).toMatch(USER_CODE);
    expect(auth.interval).toBe(5);
    expect(auth.expires_in).toBe(600);
  });

  it('answers authorization_pending, then slow_down to a device that polls too fast', async () => {
    const auth = await authorize(main);
    expect(await poll(main, auth.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'authorization_pending' }) });
    expect(await poll(main, auth.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'slow_down' }) });
    // each slow_down adds 5 seconds (RFC 8628 §3.5), on whichever node answers
    expect(await poll(main, auth.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'slow_down', error_description: expect.stringContaining('at least 15 seconds') }) });
  });

  it('issues tokens once: a replayed device code is invalid_grant', async () => {
    const email = people.replay;
    const auth = await authorize(main);
    const agent = new Agent();
    const done = await approve(main, agent, auth.user_code.toLowerCase().replace('-', ' '), email);
    expect(h1(done)).toBe('You are signed in');
    const first = await poll(main, auth.device_code);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(expect.objectContaining({ token_type: 'Bearer', refresh_token: expect.any(String), scope: SCOPE }));
    // refresh tokens of device clients rotate like any other
    const next = await refresh(main, first.body.refresh_token);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(first.body.refresh_token);
    // the replay fails, and revokes what the code issued (as for a replayed authorization code)
    expect(await poll(main, auth.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
    expect((await refresh(main, next.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('refuses a confirm form without its CSRF token', async () => {
    const auth = await authorize(main);
    const agent = new Agent();
    const confirmPage = await submitCode(main, agent, auth.user_code);
    expect(h1(confirmPage)).toBe('Allow Gatehouse CLI?');
    const forged = await agent.go(`${main.gh.issuer}/device`, {
      method: 'POST', body: new URLSearchParams({ xsrf: 'forged', user_code: auth.user_code, confirm: 'yes' }), headers: FORM,
    });
    expect(forged.status).toBe(400);
    expect(forged.url).not.toContain('/interaction/');
    expect((await poll(main, auth.device_code)).body.error).toBe('authorization_pending');
  });

  it('asks a member of several workspaces which one to work in, and the tokens name it', async () => {
    const email = await user(main, 'Wanda Picker');
    await main.gh.cliJson(['workspaces', 'create', '--slug', `north-${Date.now().toString(36)}`, '--name', 'North', '--owner', email]);
    const south = await main.gh.cliJson(['workspaces', 'create', '--slug', `south-${Date.now().toString(36)}`, '--name', 'South', '--owner', email]);
    const team = await main.gh.cliJson(['clients', 'create', '--name', 'Team CLI', '--public', '--grant-types', 'device_code,refresh_token', '--scopes', 'openid workspace offline_access']);
    const r = await fetch(main.discovery.device_authorization_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: team.client_id, scope: 'openid workspace' }) });
    const auth = await r.json() as { device_code: string; user_code: string };

    const agent = new Agent();
    let page = await approve(main, agent, auth.user_code, email);
    expect(page.html).toContain('name="workspace_id"'); // two workspaces, none active yet: the picker
    expect(page.html).toContain('North');
    expect(page.html).toContain('South');
    page = await agent.submit(page, formAction(page.html, '/workspace'), { workspace_id: south.id });
    expect(h1(page)).toBe('You are signed in');

    const tokens = await fetch(main.discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: team.client_id, grant_type: DEVICE_GRANT, device_code: auth.device_code }) });
    expect(tokens.status).toBe(200);
    const { id_token: idToken } = await tokens.json() as { id_token: string };
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ workspace_id: south.id, workspace_slug: south.slug, workspace_role: 'owner' });
  });

  it('gives a disabled account no tokens', async () => {
    // approved, then disabled before the device collects its tokens
    const ada = people.disabled;
    const first = await authorize(main);
    const agent = new Agent();
    expect(h1(await approve(main, agent, first.user_code, ada))).toBe('You are signed in');
    expect((await main.gh.cli(['users', 'disable', ada])).code).toBe(0);
    expect(await poll(main, first.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });

    // disabling ended the browser session too: the next code asks to sign in, and that is refused
    const second = await authorize(main);
    const confirmPage = await submitCode(main, agent, second.user_code);
    expect(confirmPage.html).not.toContain('You are signed in as');
    const loginPage = await confirm(main, agent, confirmPage, second.user_code);
    expect(loginPage.url).toContain('/interaction/');
    const refused = await agent.submit(loginPage, formAction(loginPage.html, '/login'), { email: ada, password: PASSWORD });
    expect(refused.status).toBe(401);
    expect((await poll(main, second.device_code)).body.error).toBe('authorization_pending');
  });

  it('lets no session outlive its account into an approval', async () => {
    // an account disabled behind the sessions' back (a direct database change): the browser is
    // still signed in, but the confirm page refuses, and the device hears access_denied
    const grace = people.outlived;
    const agent = new Agent();
    const first = await authorize(main);
    expect(h1(await approve(main, agent, first.user_code, grace))).toBe('You are signed in');
    const db = new pg.Client({ connectionString: main.gh.env.DATABASE_URL });
    await db.connect();
    try { await db.query('update users set disabled_at = now() where email = $1', [grace]); } finally { await db.end(); }
    const second = await authorize(main);
    expect(h1(await submitCode(main, agent, second.user_code))).toBe('This account is disabled');
    expect(await poll(main, second.device_code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'access_denied' }) });
  });
});

describe('wrong user codes', () => {
  // on the short-TTL deployment: its rate-limit counters are its own
  const WRONG = 'BBBB-BBBB';

  it('are limited per session: then even the right code is refused, with a readable 429', async () => {
    const agent = new Agent();
    for (let i = 0; i < DEVICE_LIMITS.session.points; i++) {
      const page = await submitCode(short, agent, WRONG);
      expect(page.status).toBe(400);
      expect(page.html).toContain('That code is not right.');
    }
    const auth = await authorize(short);
    const blocked = await submitCode(short, agent, auth.user_code);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(h1(blocked)).toBe('Too many wrong codes');
    // another session is still welcome
    expect(h1(await submitCode(short, new Agent(), auth.user_code))).toBe('Allow Gatehouse CLI?');
  });

  it('are limited per IP, across sessions', async () => {
    let status = 0;
    for (let i = 0; i < DEVICE_LIMITS.ip.points && status !== 429; i++) {
      status = (await submitCode(short, new Agent(), WRONG)).status;
    }
    expect(status).toBe(429);
    expect((await submitCode(short, new Agent(), WRONG)).status).toBe(429);
  });
});
