// GATEHOUSE_AUTHORIZE_POST=true in Chromium: an app's page that auto-submits a form POST to /auth
// (OIDC Core 3.1.2.1) gets the user signed in and a code back; the session cookie comes back on the
// next cross-site POST; RP-initiated logout by POST to /session/end works. The issuer is
// http://localhost (a loopback development issuer) and the app is on 127.0.0.1: another site.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { discover } from '../../harness/http-agent.ts';
import { launchBrowser, newContext, signInAs, startRelyingParty, type RelyingParty } from '../support/browser.ts';

const EMAIL = 'poster@example.test';
const PASSWORD = 'post form pass phrase 1';
let gh: TestServer;
let browser: Browser;
let rp: RelyingParty;
let app: { client_id: string; client_secret: string };
let config: oidc.Configuration;

beforeAll(async () => {
  [gh, browser, rp] = await Promise.all([
    startServer({ host: 'localhost', env: { GATEHOUSE_AUTHORIZE_POST: 'true' } }), launchBrowser(), startRelyingParty(),
  ]);
  app = await gh.cliJson(['clients', 'create', '--name', 'Form Poster', '--redirect-uri', `${rp.origin}/cb`, '--post-logout-redirect-uri', `${rp.origin}/bye`]);
  await gh.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD]);
  config = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: `${rp.origin}/cb` });
});
afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await gh?.destroy();
});

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
/** The app's page: a form that posts itself to `action` as soon as it loads. */
const autoPost = (action: string, fields: Record<string, string>) => `<!doctype html><html><body>
<form method="post" action="${escape(action)}">${Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('')}</form>
<script>document.forms[0].submit()</script></body></html>`;

async function authorizationFields(state: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  return {
    verifier,
    fields: {
      client_id: app.client_id, response_type: 'code', redirect_uri: `${rp.origin}/cb`, scope: 'openid email', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    },
  };
}

describe('GATEHOUSE_AUTHORIZE_POST=true', () => {
  it('a form POST to /auth signs in and returns a code; the session comes back on the next POST; POST /session/end signs out', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    let form = '';
    await page.route(`${rp.origin}/start`, (route) => route.fulfill({ contentType: 'text/html', body: form }));
    const endpoint = config.serverMetadata().authorization_endpoint!;

    const first = await authorizationFields('one');
    form = autoPost(endpoint, first.fields);
    await page.goto(`${rp.origin}/start`);
    await page.waitForURL(/\/interaction\//);
    await signInAs(page, EMAIL, PASSWORD);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rp.origin}/cb?**`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: first.verifier, expectedState: 'one' });
    expect(tokens.claims()!.email).toBe(EMAIL);
    const session = (await context.cookies(gh.issuer)).find((c) => c.name === 'gh_session');
    expect(session).toMatchObject({ sameSite: 'None', secure: true, httpOnly: true });

    // the cross-site POST carries the session: no sign-in, straight back with a code
    const second = await authorizationFields('two');
    form = autoPost(endpoint, second.fields);
    await page.goto(`${rp.origin}/start`);
    await page.waitForURL(`${rp.origin}/cb?**`);
    const again = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: second.verifier, expectedState: 'two' });
    expect(again.claims()!.sub).toBe(tokens.claims()!.sub);

    // RP-initiated logout by POST
    form = autoPost(config.serverMetadata().end_session_endpoint!, {
      id_token_hint: again.id_token!, post_logout_redirect_uri: `${rp.origin}/bye`, state: 'bye',
    });
    await page.goto(`${rp.origin}/start`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${rp.origin}/bye?**`);
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');

    // signed out: the next POST asks to sign in again
    const third = await authorizationFields('three');
    form = autoPost(endpoint, third.fields);
    await page.goto(`${rp.origin}/start`);
    await page.waitForURL(/\/interaction\//);
    await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('GET still works, and discovery is unchanged', async () => {
    const r = await fetch(`${gh.issuer}/auth?client_id=${encodeURIComponent(app.client_id)}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(`${rp.origin}/cb`)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, { redirect: 'manual' });
    expect(r.status).toBe(303);
  });
});

describe('without GATEHOUSE_AUTHORIZE_POST', () => {
  it('refuses POST at /auth and /session/end, and refuses the setting on a non-loopback http issuer at boot', async () => {
    const plain = await startServer({ embedded: true });
    try {
      for (const path of ['/auth', '/session/end']) {
        const r = await fetch(`${plain.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=${app.client_id}` });
        expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
      }
    } finally {
      await plain.destroy();
    }
    const refused = await startServer({ embedded: true, noWait: true, env: { GATEHOUSE_AUTHORIZE_POST: 'true', GATEHOUSE_ISSUER: 'http://id.example.test' } });
    try {
      expect(await refused.exited()).not.toBe(0);
      expect(refused.log()).toMatch(/GATEHOUSE_AUTHORIZE_POST=true needs an https GATEHOUSE_ISSUER/);
    } finally {
      await refused.destroy();
    }
  });
});
