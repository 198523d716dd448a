// Signing in through an upstream provider, end to end: a second Gatehouse is the upstream OpenID
// provider, openid-client is the app, the hosted pages are driven over HTTP (cookies per origin).
// Provisioning, finding the same account again, the account-takeover scenario, proving ownership,
// idp=, and the failures a user meets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { discover, formAction, type Page } from '../../harness/http-agent.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { OriginAgent, onDatabase, registerProvider, startUpstreamGatehouse } from '../support/upstream.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'a perfectly fine pass phrase';
let gh: TestServer;
let up: TestServer;
let app: oidc.Configuration;
let upstreamClient: { clientId: string; clientSecret: string };

async function authorize(agent: OriginAgent, extra: Record<string, string> = {}): Promise<{ page: Page; verifier: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: REDIRECT, scope: 'openid email profile', state: 'st', nonce: 'n1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { page: await agent.go(url.href, {}, REDIRECT), verifier };
}

/** At the upstream Gatehouse: sign in (and consent) until the browser leaves it. */
async function upstreamSignIn(agent: OriginAgent, page: Page, email: string, stopAt = REDIRECT): Promise<Page> {
  for (let i = 0; i < 5 && !page.url.startsWith(stopAt); i++) {
    if (page.url.startsWith(up.issuer) && page.html.includes('autocomplete="current-password"')) page = await agent.submit(page, formAction(page.html, '/login'), { email, password: PASSWORD }, stopAt);
    else if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, stopAt);
    else break;
  }
  return page;
}

async function tokensFor(page: Page, verifier: string) {
  expect(page.url.startsWith(REDIRECT)).toBe(true);
  return oidc.authorizationCodeGrant(app, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n1' });
}

const buttonFor = (html: string, name: string) => new RegExp(`href="([^"]*upstream/${name})"`).exec(html)?.[1]?.replaceAll('&#x2F;', '/');

async function viaButton(agent: OriginAgent, name = 'corp') {
  const { page, verifier } = await authorize(agent);
  const href = buttonFor(page.html, name);
  expect(href).toBeDefined();
  return { page: await agent.go(new URL(href!, page.url).href, {}, REDIRECT), verifier };
}

const identities = (subjectEmail: string) => onDatabase(gh, (k) => k('user_identities').where({ email: subjectEmail }).select('*'));
const auditOf = (type: string) => onDatabase(gh, (k) => k('audit_events').where({ type }).orderBy('at').select('*'));

beforeAll(async () => {
  gh = await startServer();
  const upstream = await startUpstreamGatehouse(`${gh.issuer}/providers/corp/callback`);
  up = upstream.server;
  upstreamClient = upstream;
  const c = await gh.cliJson(['clients', 'create', '--name', 'Team App', '--redirect-uri', REDIRECT, '--scopes', 'openid email profile']);
  app = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
  await registerProvider(gh, {
    name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: up.issuer, client_id: upstream.clientId, client_secret: upstream.clientSecret,
    allow_signup: true, trust_email_verified: true,
  });
  for (const email of ['alice@corp.test', 'victim@corp.test', 'bob@corp.test']) {
    await up.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--verified']);
  }
}, 120_000);
afterAll(async () => { await gh?.destroy(); await up?.destroy(); });

describe('upstream sign-in with a second Gatehouse as the OpenID provider', () => {
  it('shows a "Continue with" button for the provider on the hosted sign-in page', async () => {
    const { page } = await authorize(new OriginAgent());
    expect(page.html).toContain('Continue with Corp SSO');
  });

  it('provisions an account on the first sign-in, and finds the same one on the second (even after the upstream email changed)', async () => {
    const agent = new OriginAgent();
    const a = await viaButton(agent);
    const done = await upstreamSignIn(agent, a.page, 'alice@corp.test');
    const tokens = await tokensFor(done, a.verifier);
    const claims = tokens.claims()!;
    expect(claims.email).toBe('alice@corp.test');
    expect(claims.email_verified).toBe(true);
    expect(claims.amr).toEqual(['fed']);
    expect(claims.acr).toBe('fed');
    const created = (await auditOf('user.created')).filter((e) => e.data?.source === 'upstream');
    expect(created).toHaveLength(1);
    expect(created[0].data.provider).toBe('corp');
    expect((await auditOf('signin.succeeded')).some((e) => e.data?.method === 'upstream' && e.data?.provider === 'corp')).toBe(true);

    // the upstream changes the address: the subject still finds the same account
    const upUser = await onDatabase(up, (k) => k('users').where({ email: 'alice@corp.test' }).first());
    await onDatabase(up, (k) => k('users').where({ id: upUser.id }).update({ email: 'alice.new@corp.test', email_normalized: 'alice.new@corp.test' }));
    const again = new OriginAgent();
    const b = await viaButton(again);
    const second = await tokensFor(await upstreamSignIn(again, b.page, 'alice.new@corp.test'), b.verifier);
    expect(second.claims()!.sub).toBe(claims.sub);
    expect(await onDatabase(gh, (k) => k('users').count({ n: '*' }).first())).toEqual({ n: '1' });
  }, 60_000);

  it('refuses the takeover: an unverified local account with the victim\'s email never receives the identity', async () => {
    // the attacker registers the victim's address with a password, never verified
    const attacker = await gh.cliJson(['users', 'create', '--email', 'victim@corp.test', '--password', 'the attacker pass phrase']);
    const agent = new OriginAgent();
    const a = await viaButton(agent);
    const page = await upstreamSignIn(agent, a.page, 'victim@corp.test');
    expect(page.status).toBe(409);
    expect(page.html).toContain('An account with this email already exists');
    expect(page.url.startsWith(REDIRECT)).toBe(false);
    expect(await onDatabase(gh, (k) => k('user_identities').where({ user_id: attacker.id }).select('*'))).toHaveLength(0);
  }, 60_000);

  it('links an existing verified account only after its owner signs in to it', async () => {
    // not trusted for email: no automatic link even though both sides say verified
    await registerProvider(gh, {
      name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: up.issuer, client_id: upstreamClient.clientId, client_secret: upstreamClient.clientSecret,
      allow_signup: true, trust_email_verified: false,
    });
    const bob = await gh.cliJson(['users', 'create', '--email', 'bob@corp.test', '--password', PASSWORD, '--verified']);
    const agent = new OriginAgent();
    const a = await viaButton(agent);
    let page = await upstreamSignIn(agent, a.page, 'bob@corp.test');
    expect(page.html).toContain('already exists');
    expect(page.html).toContain('Sign in to it to link');
    expect(await onDatabase(gh, (k) => k('user_identities').where({ user_id: bob.id }).select('*'))).toHaveLength(0);
    // a wrong password links nothing
    page = await agent.submit(page, formAction(page.html, '/login'), { email: 'bob@corp.test', password: 'not the password at all' }, REDIRECT);
    expect(page.status).toBe(401);
    page = await agent.submit(page, formAction(page.html, '/login'), { email: 'bob@corp.test', password: PASSWORD }, REDIRECT);
    if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    const tokens = await tokensFor(page, a.verifier);
    expect(tokens.claims()!.sub).toBe(bob.id);
    const linked = await onDatabase(gh, (k) => k('user_identities').where({ user_id: bob.id }).select('*'));
    expect(linked).toHaveLength(1);
    // from now on the upstream sign-in alone finds bob
    const next = new OriginAgent();
    const b = await viaButton(next);
    expect((await tokensFor(await upstreamSignIn(next, b.page, 'bob@corp.test'), b.verifier)).claims()!.sub).toBe(bob.id);
  }, 90_000);

  it('goes straight to the provider with idp=', async () => {
    const agent = new OriginAgent();
    const { page } = await authorize(agent, { idp: 'corp' });
    expect(page.url.startsWith(up.issuer)).toBe(true);
  });

  it('cancelled upstream: a readable page, and "return to the app" gives the app access_denied', async () => {
    const agent = new OriginAgent();
    const a = await viaButton(agent);
    const cancelled = await agent.submit(a.page, formAction(a.page.html, '/abort'), {}, REDIRECT);
    expect(cancelled.status).toBe(400);
    expect(cancelled.html).toContain('Sign-in cancelled');
    expect(cancelled.html).toContain('Try another way');
    const back = await agent.submit(cancelled, formAction(cancelled.html, '/abort'), {}, REDIRECT);
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
    expect((await auditOf('signin.upstream_failed')).some((e) => e.data?.reason === 'cancelled')).toBe(true);
  }, 60_000);

  it('a callback whose state this browser did not start is refused with a page', async () => {
    const page = await new OriginAgent().go(`${gh.issuer}/providers/corp/callback?code=abc&state=forged`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('has expired');
    // another browser cannot finish a sign-in this one started
    const agent = new OriginAgent();
    const { page: login } = await authorize(agent);
    const upstreamAuth = await agent.go(new URL(buttonFor(login.html, 'corp')!, login.url).href, {}, up.issuer);
    const state = new URL(upstreamAuth.url).searchParams.get('state')!;
    const stranger = await new OriginAgent().go(`${gh.issuer}/providers/corp/callback?code=abc&state=${state}`);
    expect(stranger.status).toBe(400);
    expect(stranger.html).toContain('does not belong to a sign-in started in this browser');
  }, 60_000);

  it('an upstream that is down: a 503 page with a way back, no account', async () => {
    await registerProvider(gh, { name: 'down', kind: 'oidc', display_name: 'Down IdP', issuer: 'http://127.0.0.1:9/', client_id: 'abc', client_secret: 'x', allow_signup: true });
    const agent = new OriginAgent();
    const { page } = await viaButton(agent, 'down');
    expect(page.status).toBe(503);
    expect(page.html).toContain('is not answering');
    expect(page.html).toContain('Try another way');
  }, 60_000);

  it('a domain the provider does not allow: a readable page, no account', async () => {
    await registerProvider(gh, {
      name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: up.issuer, client_id: upstreamClient.clientId, client_secret: upstreamClient.clientSecret,
      allow_signup: true, trust_email_verified: true, allowed_email_domains: ['elsewhere.test'],
    });
    await up.cliJson(['users', 'create', '--email', 'carol@corp.test', '--password', PASSWORD, '--verified']);
    const agent = new OriginAgent();
    const a = await viaButton(agent);
    const page = await upstreamSignIn(agent, a.page, 'carol@corp.test');
    expect(page.status).toBe(403);
    expect(page.html).toContain('cannot sign in');
    expect(await onDatabase(gh, (k) => k('users').where({ email: 'carol@corp.test' }).first())).toBeUndefined();
  }, 60_000);
});
