// The workspace picker during sign-in, and the switcher on the hosted account page, in a real
// browser (headless Chromium): when it appears (several workspaces, none active, the app asks for
// the workspace scope) and when it does not, what the choice does to the tokens, and screenshots.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { discover } from '../../harness/http-agent.ts';
import { launchBrowser, newContext, screenshot, startRelyingParty, type RelyingParty } from '../support/browser.ts';

const PASSWORD = 'picker pass phrase 2026';
let gh: TestServer;
let rp: RelyingParty;
let browser: Browser;
let REDIRECT: string;
let web: { client_id: string; client_secret: string };
let config: oidc.Configuration;
let acme: { id: string; slug: string };
let zeta: { id: string; slug: string };
const contexts: BrowserContext[] = [];
let seq = 0;
const unique = (who: string) => `${who}-${Date.now().toString(36)}${seq++}@example.test`;

beforeAll(async () => {
  [gh, browser, rp] = await Promise.all([startServer(), launchBrowser(), startRelyingParty()]);
  REDIRECT = `${rp.origin}/cb`;
  web = await gh.cliJson(['clients', 'create', '--name', 'Team Board', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email workspace workspaces']);
  config = await discover({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });
  const owner = unique('owner');
  await gh.cliJson(['users', 'create', '--email', owner, '--password', PASSWORD]);
  acme = await gh.cliJson(['workspaces', 'create', '--slug', 'acme', '--name', 'Acme Corporation', '--owner', owner]);
  zeta = await gh.cliJson(['workspaces', 'create', '--slug', 'zeta', '--name', 'Zeta Labs', '--owner', owner]);
});
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await rp?.close();
  const failures = gh?.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
  if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
  await gh?.destroy();
});

async function fresh(): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  return context.newPage();
}

async function member(label: string, memberships: Array<[string, string]>): Promise<string> {
  const email = unique(label);
  await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
  for (const [workspace, role] of memberships) await gh.cliJson(['workspaces', 'add-member', '--workspace', workspace, '--email', email, '--role', role]);
  return email;
}

async function authorization(extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email workspace workspaces', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url: url.href, verifier, state };
}

async function click(page: Page, name: string | RegExp) {
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name, exact: typeof name === 'string' }).click()]);
}

async function signIn(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await click(page, 'Sign in');
}

async function backToApp(page: Page, button: string | RegExp): Promise<URL> {
  await Promise.all([page.waitForURL(`${rp.origin}/**`), page.getByRole('button', { name: button, exact: typeof button === 'string' }).click()]);
  return new URL(page.url());
}

async function tokensFrom(callback: URL, auth: { verifier: string; state: string }) {
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
}

describe('the workspace picker', () => {
  it('appears for several workspaces and none active; the choice is in the tokens and stays put', async () => {
    const email = await member('picker', [['acme', 'member'], ['zeta', 'admin']]);
    const page = await fresh();
    const auth = await authorization();
    await page.goto(auth.url);
    await signIn(page, email);

    await page.getByRole('heading', { name: 'Choose a workspace' }).waitFor();
    expect(await page.locator('.lead').textContent()).toContain('Team Board');
    expect(await page.locator('.lead').textContent()).toContain(email);
    const options = page.locator('.workspace-option');
    expect(await options.allTextContents()).toEqual(['Acme Corporationacme · member', 'Zeta Labszeta · admin']);
    expect(await page.locator('form').evaluateAll((forms) =>
      (forms as HTMLFormElement[]).every((f) => (f.elements.namedItem('_csrf') as HTMLInputElement | null)?.type === 'hidden'))).toBe(true);
    await screenshot(page, 'workspace-picker');

    await click(page, /Zeta Labs/);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    const tokens = await tokensFrom(await backToApp(page, 'Allow'), auth);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ workspace_id: zeta.id, workspace_slug: 'zeta', workspace_name: 'Zeta Labs', workspace_role: 'admin' });
    expect(claims.workspaces).toHaveLength(2);

    // the next sign-in, in another browser: no picker, the same workspace
    const again = await fresh();
    const second = await authorization();
    await again.goto(second.url);
    await signIn(again, email);
    await again.getByRole('button', { name: 'Allow' }).waitFor();
    const next = await tokensFrom(await backToApp(again, 'Allow'), second);
    expect(next.claims()!.workspace_slug).toBe('zeta');
  });

  it('does not appear for one workspace, with workspace=, or when the app does not ask for the workspace scope', async () => {
    const single = await member('single', [['acme', 'admin']]);
    const page = await fresh();
    const auth = await authorization();
    await page.goto(auth.url);
    await signIn(page, single);
    await page.getByRole('button', { name: 'Allow' }).waitFor(); // straight to consent
    expect((await tokensFrom(await backToApp(page, 'Allow'), auth)).claims()!.workspace_slug).toBe('acme');

    const two = await member('param', [['acme', 'member'], ['zeta', 'member']]);
    const withParam = await fresh();
    const p = await authorization({ workspace: 'acme' });
    await withParam.goto(p.url);
    await signIn(withParam, two);
    await withParam.getByRole('button', { name: 'Allow' }).waitFor();
    expect((await tokensFrom(await backToApp(withParam, 'Allow'), p)).claims()!.workspace_slug).toBe('acme');

    const three = await member('noscope', [['acme', 'member'], ['zeta', 'member']]);
    const noScope = await fresh();
    const n = await authorization({ scope: 'openid email' });
    await noScope.goto(n.url);
    await signIn(noScope, three);
    await noScope.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await noScope.getByRole('heading', { level: 1 }).textContent()).toBe('Allow Team Board?');
  });

  it('prompt=none cannot show it (interaction_required); Cancel returns access_denied', async () => {
    const email = await member('silent', [['acme', 'member'], ['zeta', 'member']]);
    const page = await fresh();
    const first = await authorization({ scope: 'openid email' }); // signs in without choosing
    await page.goto(first.url);
    await signIn(page, email);
    await backToApp(page, 'Allow');

    const silent = await authorization({ prompt: 'none' });
    await page.goto(silent.url);
    await page.waitForURL(`${rp.origin}/**`);
    expect(new URL(page.url()).searchParams.get('error')).toBe('interaction_required');

    const interactive = await authorization();
    await page.goto(interactive.url);
    await page.getByRole('heading', { name: 'Choose a workspace' }).waitFor();
    const callback = await backToApp(page, 'Cancel and return to the app');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(interactive.state);
  });
});

describe('the account switcher', () => {
  it('marks the active workspace and switches it; the next sign-in follows', async () => {
    const email = await member('switcher', [['acme', 'owner'], ['zeta', 'member']]);
    const page = await fresh();
    const auth = await authorization({ workspace: 'acme' });
    await page.goto(auth.url);
    await signIn(page, email);
    await backToApp(page, 'Allow');

    await page.goto(`${gh.issuer}/account/workspaces`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your workspaces');
    expect(await page.locator('[aria-current=true]').textContent()).toContain('Acme Corporation');
    await screenshot(page, 'account-workspaces');
    await click(page, /Zeta Labs/);
    expect(await page.getByRole('status').textContent()).toBe('Zeta Labs is now your active workspace.');
    expect(await page.locator('[aria-current=true]').textContent()).toContain('Zeta Labs');

    const silent = await authorization({ prompt: 'none' });
    await page.goto(silent.url);
    await page.waitForURL(`${rp.origin}/**`);
    const tokens = await tokensFrom(new URL(page.url()), silent);
    expect(tokens.claims()).toMatchObject({ workspace_id: zeta.id, workspace_role: 'member' });
    expect(acme.id).not.toBe(zeta.id);
  });
});
