// logout_upstream: signing out of Gatehouse also signs the browser out at the upstream provider
// (a bare oidc-provider: code we did not write), then returns to where Gatehouse's own sign-out was
// going — the app's post_logout_redirect_uri with its state. Without the setting, Gatehouse's
// sign-out goes straight back to the app.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { discover, formAction, type Page } from '../../harness/http-agent.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { OriginAgent, registerProvider } from '../support/upstream.ts';
import { startBareOidcProvider, type BareOidc } from '../support/upstream-standins.ts';

const REDIRECT = 'http://127.0.0.1:7998/cb';
const BYE = 'http://127.0.0.1:7998/bye';

let gh: TestServer;
let bare: BareOidc;
let app: oidc.Configuration;

const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function signInVia(agent: OriginAgent, name: string): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: REDIRECT, scope: 'openid email', state: 'st', nonce: 'n1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const login = await agent.go(url.href, {}, REDIRECT);
  const href = new RegExp(`href="([^"]*upstream/${name})"`).exec(login.html)?.[1]?.replaceAll('&#x2F;', '/');
  expect(href).toBeDefined();
  let page: Page = await agent.go(new URL(href!, login.url).href, {}, REDIRECT);
  if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
  expect(page.url.startsWith(REDIRECT)).toBe(true);
  const tokens = await oidc.authorizationCodeGrant(app, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n1' });
  return tokens.id_token!;
}

/** RP-initiated logout at Gatehouse, "Yes, sign me out": where the browser is sent next. */
async function signOutOfGatehouse(agent: OriginAgent, idToken: string, stopAt: string): Promise<Page> {
  const confirm = await agent.go(`${gh.issuer}/session/end?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'bye-state' })}`);
  expect(confirm.status).toBe(200);
  return agent.go(`${gh.issuer}/session/end/confirm`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf: xsrfOf(confirm.html), logout: 'yes' }),
  }, stopAt);
}

beforeAll(async () => {
  gh = await startServer();
  const signedOut = (name: string) => `${gh.issuer}/providers/${name}/signed-out`;
  const callback = (name: string) => `${gh.issuer}/providers/${name}/callback`;
  bare = await startBareOidcProvider({ callbacks: () => [callback('bare-out'), callback('bare-stay')], postLogoutRedirects: () => [signedOut('bare-out')] });
  const c = await gh.cliJson(['clients', 'create', '--name', 'Team App', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', BYE, '--scopes', 'openid email']);
  app = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
  const common = { kind: 'oidc', issuer: bare.issuer, client_id: bare.clientId, client_secret: bare.clientSecret, allow_signup: true, trust_email_verified: true };
  await registerProvider(gh, { name: 'bare-out', display_name: 'Signs out upstream', logout_upstream: true, ...common } as never);
  await registerProvider(gh, { name: 'bare-stay', display_name: 'Stays signed in upstream', ...common } as never);
  bare.accounts.set('u-olga', { email: 'olga@bare.test', email_verified: true });
}, 180_000);

afterAll(async () => {
  await bare?.close();
  await gh?.destroy();
});

describe('logout_upstream', () => {
  it('signing out of Gatehouse goes through the upstream sign-out and back to the app with its state', async () => {
    const agent = new OriginAgent();
    bare.next = { accountId: 'u-olga' };
    const idToken = await signInVia(agent, 'bare-out');

    const upstream = await signOutOfGatehouse(agent, idToken, `${bare.issuer}/session/end`);
    const asked = new URL(upstream.url);
    expect(asked.origin + asked.pathname).toBe(`${bare.issuer}/session/end`);
    expect(asked.searchParams.get('post_logout_redirect_uri')).toBe(`${gh.issuer}/providers/bare-out/signed-out`);
    expect(asked.searchParams.get('id_token_hint')).toBeTruthy(); // the upstream's own ID token, not Gatehouse's
    expect(asked.searchParams.get('id_token_hint')).not.toBe(idToken);
    expect(asked.searchParams.get('state')).toBeTruthy();

    // the upstream asks "sign out?" (its own page); yes: it comes back to Gatehouse, then to the app
    const upstreamConfirm = await agent.go(upstream.url);
    expect(upstreamConfirm.status).toBe(200);
    const back = await agent.go(`${bare.issuer}/session/end/confirm`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrfOf(upstreamConfirm.html), logout: 'yes' }),
    }, BYE);
    expect(back.url).toBe(`${BYE}?state=bye-state`);

    // the return is single-use: replaying it lands on Gatehouse's own signed-out page, nowhere else
    const replay = await agent.go(`${gh.issuer}/providers/bare-out/signed-out?state=${asked.searchParams.get('state')}`, {}, BYE);
    expect(replay.url.startsWith(BYE)).toBe(false);
    expect(replay.url).toBe(`${gh.issuer}/session/end/success`);
  }, 120_000);

  it('without the setting, Gatehouse signs out alone and goes straight back to the app', async () => {
    const agent = new OriginAgent();
    bare.next = { accountId: 'u-olga' };
    const idToken = await signInVia(agent, 'bare-stay');
    const page = await signOutOfGatehouse(agent, idToken, BYE);
    expect(page.url).toBe(`${BYE}?state=bye-state`);
  }, 120_000);
});
