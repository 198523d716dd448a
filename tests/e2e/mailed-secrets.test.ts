// Mailed secrets (reset, verification, email change and invitation tokens) reach the person they
// were mailed to and nobody else: run each flow end to end, then look for every token in the
// server's whole log output, its metrics, and every URL the browser was sent to after the link.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../../harness/http-agent.ts';
import { openAccount } from '../support/account.ts';
import { messagesTo } from '../support/outbox.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'mailed secrets pass phrase';
let gh: TestServer;
/** Every token a flow used, to look for in the logs at the end. */
const tokens: Array<[flow: string, token: string]> = [];

/** Mail may leave after the answer (off the request path): wait this long for it. */
const MAIL_WAIT_MS = 10_000;

/** The newest link to `path` mailed to `to`, and its token. */
async function mailedLink(to: string, path: RegExp): Promise<{ link: string; token: string }> {
  const pattern = new RegExp(`(http://[^\\s"<>]+${path.source}(?:/|\\?token=)([A-Za-z0-9_-]{16,}))`);
  const until = Date.now() + MAIL_WAIT_MS;
  for (;;) {
    const m = pattern.exec(messagesTo(gh.dataDir, to).at(-1) ?? '');
    if (m) return { link: m[1]!, token: m[2]! };
    if (Date.now() > until) throw new Error(`no ${path} link mailed to ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A landing on a mailed link: no referrer leaves it; a redirect takes the token out of the address bar. */
async function land(agent: Agent, link: string, token: string, page: string): Promise<void> {
  const res = await agent.request(link);
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe(page);
  expect(res.headers.get('location')).not.toContain(token);
  await res.text();
}

beforeAll(async () => {
  gh = await startServer();
});
afterAll(async () => { await gh?.destroy(); });

describe('mailed links', () => {
  it('password reset: the token is used once in the link, then only from a cookie', async () => {
    await gh.cliJson(['users', 'create', '--email', 'reset-secret@example.test', '--password', PASSWORD, '--verified']);
    const agent = new Agent();
    const form = await agent.go(`${gh.issuer}/account/forgot`);
    await agent.submit(form, '/account/forgot', { email: 'reset-secret@example.test' });
    const { link, token } = await mailedLink('reset-secret@example.test', /\/account\/reset/);
    tokens.push(['reset', token]);
    expect(link).toContain('?token='); // never in a path
    await land(agent, link, token, '/account/reset');
    const resetPage = await agent.go(`${gh.issuer}/account/reset`);
    expect(resetPage.status).toBe(200);
    expect(resetPage.html).not.toContain(token);
    expect(resetPage.headers.get('referrer-policy')).toBe('no-referrer');
    const done = await agent.submit(resetPage, formAction(resetPage.html, '/account/reset'), { new_password: 'a new phrase for secrets', confirm_password: 'a new phrase for secrets' });
    expect(done.status).toBe(200);
    expect(done.html).toMatch(/was changed/);
    // used up: the cookie is gone, and the link says it expired
    expect(agent.cookies.has('gh_reset')).toBe(false);
    expect((await agent.go(link)).status).toBe(400);
  });

  it('a link mailed before the token left the path still works, and is logged as its route', async () => {
    await gh.cliJson(['users', 'create', '--email', 'old-link@example.test', '--password', PASSWORD, '--verified']);
    const agent = new Agent();
    await agent.submit(await agent.go(`${gh.issuer}/account/forgot`), '/account/forgot', { email: 'old-link@example.test' });
    const { token } = await mailedLink('old-link@example.test', /\/account\/reset/);
    tokens.push(['reset (old link)', token]);
    await land(agent, `${gh.issuer}/account/reset/${token}`, token, '/account/reset');
    expect((await agent.go(`${gh.issuer}/account/reset`)).html).toContain('Choose a new password');
  });

  it('email verification and email change: spent on landing', async () => {
    await gh.cliJson(['users', 'create', '--email', 'verify-secret@example.test', '--password', PASSWORD]);
    const { agent, page } = await openAccount(gh.issuer, '/account/email', { email: 'verify-secret@example.test', password: PASSWORD });
    await agent.submit(page, '/account/verify-email/resend', {});
    const verify = await mailedLink('verify-secret@example.test', /\/account\/verify-email/);
    tokens.push(['verification', verify.token]);
    const verified = await agent.go(verify.link);
    expect(verified.html).toMatch(/is verified/);
    expect(verified.headers.get('referrer-policy')).toBe('no-referrer');

    const emailPage = await agent.go(`${gh.issuer}/account/email`);
    await agent.submit(emailPage, '/account/email', { email: 'changed-secret@example.test' });
    const change = await mailedLink('changed-secret@example.test', /\/account\/email\/confirm/);
    tokens.push(['email change', change.token]);
    const changed = await agent.go(change.link);
    expect(changed.url).not.toContain(change.token);
    expect(changed.html).toContain('changed-secret@example.test');
  });

  it('invitation: the token leaves the URL at the landing and survives the sign-up on the way', async () => {
    const scopes = 'openid workspace workspace:manage';
    const app = await gh.cliJson(['clients', 'create', '--name', 'Team', '--redirect-uri', REDIRECT, '--scopes', scopes]);
    const rp = { issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT };
    await gh.cliJson(['users', 'create', '--email', 'owner-secret@example.test', '--password', PASSWORD, '--verified']);
    await gh.cliJson(['workspaces', 'create', '--slug', 'hush', '--name', 'Hush', '--owner', 'owner-secret@example.test']);
    const { tokens: owner } = await signIn(await discover(rp), { ...rp, email: 'owner-secret@example.test', password: PASSWORD, scope: scopes });
    const invited = await fetch(`${gh.issuer}/api/workspaces/hush/invitations`, {
      method: 'POST', headers: { authorization: `Bearer ${owner.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'invitee-secret@example.test', role: 'member' }),
    });
    expect(invited.status).toBe(201);
    const { link, token } = await mailedLink('invitee-secret@example.test', /\/invitations\/accept/);
    tokens.push(['invitation', token]);
    const agent = new Agent();
    await land(agent, link, token, '/invitations/accept');
    const page = await agent.go(`${gh.issuer}/invitations/accept`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Create account and join');
    expect(page.html).not.toMatch(new RegExp(`[?&]token=${token}`)); // only in the form's hidden field
    const done = await agent.submit(page, formAction(page.html, '/invitations/signup'), { token, name: 'In Vitee', password: PASSWORD });
    expect(done.html).toContain('You joined Hush');
    expect(agent.cookies.has('gh_invitation')).toBe(false);
  });

  it('no token is in the server\'s log output or its metrics', async () => {
    const log = await gh.settledLog(); // every batched line is out
    const metrics = await (await fetch(`${gh.issuer}/metrics`)).text();
    expect(log).toContain('/account/reset'); // the request lines are there, only the secret is not
    for (const [flow, token] of tokens) {
      expect([flow, log.includes(token)]).toEqual([flow, false]);
      expect([flow, metrics.includes(token)]).toEqual([flow, false]);
    }
    expect(tokens.map(([flow]) => flow)).toEqual(['reset', 'reset (old link)', 'verification', 'email change', 'invitation']);
  });
});
