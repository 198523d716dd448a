// Tokens and conformance (issue 11): the README's own openid-client example runs as written;
// introspection and revocation answer only the token's own client (or the resource server it is
// meant for); acr_values is a list of acceptable values, not a demand for the strongest.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const RS_AUDIENCE = 'https://api.example.test';
const EMAIL = 'ada@example.com';
const PASSWORD = 'a long pass phrase';
let gh: TestServer;

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_RESOURCES: RS_AUDIENCE } });
  // the README's second command, as written (the password on stdin)
  const created = await gh.cli(['users', 'create', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n` });
  if (created.code !== 0) throw new Error(created.stderr);
});
afterAll(async () => { await gh?.destroy(); });

/** Drives the hosted pages for a browser sent to `url`; returns the URL the app is called back at. */
async function browse(url: URL, agent = new Agent()): Promise<string> {
  let page = await agent.go(url.toString(), {}, REDIRECT);
  if (page.html.includes('current-password')) page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
  if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
  if (!page.url.startsWith(REDIRECT)) throw new Error(`did not return to the app: ${page.status} ${page.url}\n${page.html.slice(0, 800)}`);
  return page.url;
}

describe("the README's example", () => {
  it('registers an app, signs in, reads userinfo and refreshes, exactly as README.md shows', async () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Register an app and sign in'));
    const create = /^gatehouse (clients create [^\n]+)/m.exec(section)![1]!;
    const args = create.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
    const app = await gh.cliJson(args.filter((a) => a !== '--json'));
    expect(app.client_secret).toEqual(expect.any(String));

    const code = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    const [before, after] = code.split(/^\/\/ send the browser to `url`.*$/m);
    expect(after).toBeDefined();
    const body = `${before!.replace(/^import \* as client from 'openid-client';$/m, '')}
      const callbackUrl = await browse(url);
      ${after}
      return { tokens, me, next };`.replaceAll("'http://localhost:3000'", 'ISSUER');
    const run = new Function('client', 'CLIENT_ID', 'CLIENT_SECRET', 'ISSUER', 'browse', 'console',
      `return (async () => { ${body} })();`) as (...a: unknown[]) => Promise<{ tokens: any; me: any; next: any }>;
    const { tokens, me, next } = await run(oidc, app.client_id, app.client_secret, gh.issuer, browse, { log() {} });
    expect(tokens.claims().email).toBe(EMAIL);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(me.sub).toBe(tokens.claims().sub);
    expect(next.access_token).toEqual(expect.any(String));
    expect(next.refresh_token).not.toBe(tokens.refresh_token); // rotated
  });

  it('offline_access without prompt=consent still asks the user, and prompt=none never yields a refresh token', async () => {
    const app = await gh.cliJson(['clients', 'create', '--name', 'Offline App', '--redirect-uri', REDIRECT]);
    const config = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
    const agent = new Agent();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid offline_access', state: 's1',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    let page = await agent.go(url.toString(), {}, REDIRECT);
    page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
    expect(page.html).toContain('Stay signed in while you are away'); // the user is asked
    page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 's1' });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // prompt=none cannot ask: offline_access is dropped, no refresh token
    const v2 = oidc.randomPKCECodeVerifier();
    const silent = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid offline_access', state: 's2', prompt: 'none',
      code_challenge: await oidc.calculatePKCECodeChallenge(v2), code_challenge_method: 'S256',
    });
    const back = await agent.go(silent.toString(), {}, REDIRECT);
    const t2 = await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: v2, expectedState: 's2' });
    expect(t2.refresh_token).toBeUndefined();
  });

  it('offline_access sent through a pushed authorization request (PAR) asks the user and yields a refresh token', async () => {
    const app = await gh.cliJson(['clients', 'create', '--name', 'Pushed App', '--redirect-uri', REDIRECT]);
    const config = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
    const agent = new Agent();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT, scope: 'openid offline_access', state: 'p1',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/); // the request went ahead
    let page = await agent.go(url.toString(), {}, REDIRECT);
    page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
    expect(page.html).toContain('Stay signed in while you are away'); // asked, not dropped silently
    page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'p1' });
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('offline_access asks once per grant: not again at the next sign-in, again after the grant is revoked', async () => {
    const app = await gh.cliJson(['clients', 'create', '--name', 'Once App', '--redirect-uri', REDIRECT]);
    const config = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
    const agent = new Agent();
    /** One authorization in this browser; the consent page (if one came) is confirmed. */
    const authorize = async (extra: Record<string, string> = {}) => {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'openid email offline_access', state: 'st', ...extra,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      let page = await agent.go(url.toString(), {}, REDIRECT);
      const signedIn = page.html.includes('current-password');
      if (signedIn) page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
      const consented = page.html.includes('/confirm');
      const asked = consented && page.html.includes('Stay signed in while you are away');
      if (consented) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st' });
      return { signedIn, consented, asked, tokens };
    };

    const first = await authorize();
    expect(first).toMatchObject({ consented: true, asked: true, tokens: { refresh_token: expect.any(String) } });
    const second = await authorize();
    expect(second).toMatchObject({ signedIn: false, consented: false, tokens: { refresh_token: expect.any(String) } });
    expect((await oidc.refreshTokenGrant(config, second.tokens.refresh_token!)).access_token).toEqual(expect.any(String));
    // signing in again on the way (prompt=login) does not bring the consent back either
    const relogin = await authorize({ prompt: 'login' });
    expect(relogin).toMatchObject({ signedIn: true, consented: false, tokens: { refresh_token: expect.any(String) } });
    // an app that asks for the page gets it; our mark sent by the app changes nothing
    expect((await authorize({ prompt: 'consent' })).consented).toBe(true);
    expect((await authorize({ prompt: 'consent', gh_offline_consent: '1' })).consented).toBe(true);

    // the user removes the app's access on the account page: the next sign-in asks again
    let apps = await agent.go(`${gh.issuer}/account/apps`);
    expect(apps.html).toContain('Once App');
    apps = await agent.submit(apps, formAction(apps.html, '/revoke'), {});
    expect(apps.html).toContain('Access removed');
    expect(await oidc.refreshTokenGrant(config, second.tokens.refresh_token!).then(() => 'refreshed', () => 'refused')).toBe('refused');
    const afterRevoke = await authorize();
    expect(afterRevoke).toMatchObject({ consented: true, asked: true, tokens: { refresh_token: expect.any(String) } });
  });

  it('a client not registered for refresh_token gets no refresh token', async () => {
    const app = await gh.cliJson(['clients', 'create', '--name', 'No Refresh', '--redirect-uri', REDIRECT, '--grant-types', 'authorization_code', '--scopes', 'openid offline_access']);
    const rp = { issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT };
    const { tokens } = await signIn(await discover(rp), { ...rp, email: EMAIL, password: PASSWORD, scope: 'openid offline_access', extra: { prompt: 'login' } });
    expect(tokens.refresh_token).toBeUndefined();
  });
});

describe('introspection and revocation', () => {
  let a: { client_id: string; client_secret: string };
  let b: { client_id: string; client_secret: string };
  let rs: { client_id: string; client_secret: string };
  let tokensA: oidc.TokenEndpointResponse;
  const basic = (c: { client_id: string; client_secret: string }) => `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;
  const introspect = async (caller: typeof a, token: string) => {
    const res = await fetch(`${gh.issuer}/token/introspection`, { method: 'POST', headers: { authorization: basic(caller), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    expect(res.status).toBe(200);
    return await res.json() as Record<string, unknown>;
  };
  const revoke = async (caller: typeof a, token: string) => (await fetch(`${gh.issuer}/token/revocation`, {
    method: 'POST', headers: { authorization: basic(caller), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }),
  })).status;

  beforeAll(async () => {
    a = await gh.cliJson(['clients', 'create', '--name', 'App A', '--redirect-uri', REDIRECT]);
    b = await gh.cliJson(['clients', 'create', '--name', 'App B', '--redirect-uri', REDIRECT, '--grant-types', 'authorization_code,refresh_token,client_credentials']);
    rs = await gh.cliJson(['clients', 'create', '--name', 'The API', '--grant-types', 'client_credentials', '--resource-server-for', RS_AUDIENCE]);
    const rp = { issuer: gh.issuer, clientId: a.client_id, clientSecret: a.client_secret, redirectUri: REDIRECT };
    tokensA = (await signIn(await discover(rp), { ...rp, email: EMAIL, password: PASSWORD, scope: 'openid email offline_access' })).tokens;
  });

  it("another client learns nothing about A's access and refresh tokens; A does", async () => {
    for (const token of [tokensA.access_token, tokensA.refresh_token!]) {
      expect(await introspect(b, token)).toEqual({ active: false });
      expect(await introspect(rs, token)).toEqual({ active: false }); // not meant for it
      expect(await introspect(a, token)).toMatchObject({ active: true, client_id: a.client_id, sub: expect.any(String) });
    }
  });

  it("another client cannot revoke A's tokens (200, nothing revoked); A can", async () => {
    expect(await revoke(b, tokensA.refresh_token!)).toBe(200);
    expect(await revoke(b, tokensA.access_token)).toBe(200);
    expect(await introspect(a, tokensA.access_token)).toMatchObject({ active: true });
    expect(await introspect(a, tokensA.refresh_token!)).toMatchObject({ active: true });
    expect(await revoke(a, tokensA.access_token)).toBe(200);
    expect(await introspect(a, tokensA.access_token)).toEqual({ active: false });
  });

  it('registers a resource server only as a confidential client with https resource indicators', async () => {
    expect((await gh.cliJson(['clients', 'show', rs.client_id])).resource_server_for).toEqual([RS_AUDIENCE]);
    const pub = await gh.cli(['clients', 'create', '--name', 'Bad', '--public', '--redirect-uri', REDIRECT, '--resource-server-for', RS_AUDIENCE, '--json']);
    expect(pub.code).not.toBe(0);
    expect(pub.stderr).toMatch(/confidential/);
    const plain = await gh.cli(['clients', 'create', '--name', 'Bad', '--grant-types', 'client_credentials', '--resource-server-for', 'http://api.example.test', '--json']);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/https/);
  });
});

describe('acr_values', () => {
  let config: oidc.Configuration;
  beforeAll(async () => {
    const app = await gh.cliJson(['clients', 'create', '--name', 'ACR App', '--redirect-uri', REDIRECT]);
    config = await discover({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });
  });
  /** Signs in with a password only; returns where that leaves the browser. */
  async function passwordOnly(extra: Record<string, string>) {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', state: 'st', ...extra,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const agent = new Agent();
    let page = await agent.go(url.toString(), {}, REDIRECT);
    page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
    if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    return { page, verifier };
  }

  it('"pwd mfa" is satisfied by a password alone (OIDC Core 3.1.2.1: a list in order of preference)', async () => {
    const { page, verifier } = await passwordOnly({ acr_values: 'pwd mfa' });
    expect(page.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st' });
    expect(tokens.claims()!.acr).toBe('pwd');
  });

  it('"mfa" alone steps up to a second factor (a user without one enrols)', async () => {
    const { page } = await passwordOnly({ acr_values: 'mfa' });
    expect(page.url).toMatch(/\/interaction\/[^/]+\/mfa-setup$/);
  });
});
