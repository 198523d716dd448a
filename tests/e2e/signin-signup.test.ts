// Hosted sign-in and sign-up over HTTP: no account enumeration, emailed codes, throttling.
// (tests/e2e/pages.test.ts drives the same pages in Chromium.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, type Page } from '../../harness/http-agent.ts';
import { lastCodeFor, messagesTo, waitForMessages } from '../support/outbox.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'a perfectly fine pass phrase';
let gh: TestServer;
let config: oidc.Configuration;

async function loginPage(agent = new Agent()): Promise<{ agent: Agent; page: Page }> {
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', state: 's',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
  return { agent, page: await agent.go(url.toString(), {}, REDIRECT) };
}

async function signupPage() {
  const { agent, page } = await loginPage();
  const href = /href="([^"]*\/signup)"/.exec(page.html)![1]!.replaceAll('&#x2F;', '/');
  return { agent, page: await agent.go(new URL(href, page.url).toString()) };
}

const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1]?.trim();

beforeAll(async () => {
  gh = await startServer();
  const c = await gh.cliJson(['clients', 'create', '--name', 'Pages', '--redirect-uri', REDIRECT]);
  await gh.cliJson(['users', 'create', '--email', 'known@example.test', '--password', PASSWORD]);
  config = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
});
afterAll(async () => { await gh?.destroy(); });

describe('sign-in', () => {
  it('answers a wrong password and an unknown account the same way', async () => {
    const a = await loginPage();
    const wrong = await a.agent.submit(a.page, formAction(a.page.html, '/login'), { email: 'known@example.test', password: 'not the password' });
    const b = await loginPage();
    const unknown = await b.agent.submit(b.page, formAction(b.page.html, '/login'), { email: 'nobody@example.test', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(alertOf(wrong.html)).toBe(alertOf(unknown.html));
  });

  it('locks an account out for this IP after repeated failures, with Retry-After', async () => {
    await gh.cliJson(['users', 'create', '--email', 'target@example.test', '--password', PASSWORD]);
    let last: Page | undefined;
    for (let i = 0; i < 6; i++) {
      const { agent, page } = await loginPage();
      last = await agent.submit(page, formAction(page.html, '/login'), { email: 'target@example.test', password: `guess ${i} guess` });
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // even the right password waits out the block
    const { agent, page } = await loginPage();
    const right = await agent.submit(page, formAction(page.html, '/login'), { email: 'target@example.test', password: PASSWORD });
    expect(right.status).toBe(429);
    // another account from the same place is not locked
    const other = await loginPage();
    const ok = await other.agent.submit(other.page, formAction(other.page.html, '/login'), { email: 'known@example.test', password: PASSWORD }, REDIRECT);
    expect(ok.status).not.toBe(429);
  });

  it('refuses a form without its CSRF token', async () => {
    const { agent, page } = await loginPage();
    const res = await agent.go(new URL(formAction(page.html, '/login'), page.url).toString(), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'known@example.test', password: PASSWORD }),
    });
    expect(res.status).toBe(403);
    expect(res.html).toMatch(/reload the page/);
  });

  it('refuses an oversized form with 413', async () => {
    const { agent, page } = await loginPage();
    const res = await agent.submit(page, formAction(page.html, '/login'), { email: 'x', password: 'p'.repeat(100_000) });
    expect(res.status).toBe(413);
  });
});

describe('sign-up', () => {
  it('creates a verified account after the emailed code and signs in', async () => {
    const { agent, page } = await signupPage();
    const verify = await agent.submit(page, formAction(page.html, '/signup'), { name: 'New Person', email: 'new@example.test', password: PASSWORD });
    expect(verify.url).toMatch(/\/verify$/);
    await waitForMessages(gh.dataDir, 'new@example.test');
    const code = lastCodeFor(gh.dataDir, 'new@example.test');
    expect(code).toMatch(/^\d{6}$/);
    const done = await agent.submit(verify, formAction(verify.html, '/verify'), { code: code! }, REDIRECT);
    expect(done.html).toContain('/confirm'); // consent follows the new sign-in
    const user = await gh.cliJson(['users', 'show', 'new@example.test']);
    expect(user.email_verified).toBe(true);
    expect(user.name).toBe('New Person');
  });

  it('answers an existing address exactly like a new one, and mails its owner instead', async () => {
    const fresh = await signupPage();
    const a = await fresh.agent.submit(fresh.page, formAction(fresh.page.html, '/signup'), { name: 'X', email: 'brand-new@example.test', password: PASSWORD });
    const taken = await signupPage();
    const b = await taken.agent.submit(taken.page, formAction(taken.page.html, '/signup'), { name: 'X', email: 'known@example.test', password: PASSWORD });
    expect(b.status).toBe(a.status);
    expect(b.url.replace(/interaction\/[^/]+/, 'I')).toBe(a.url.replace(/interaction\/[^/]+/, 'I'));
    expect(b.html.replace(/known@example\.test/g, 'E').replace(/value="[^"]+"/g, '').replace(/interaction\/[^/"]+/g, 'I'))
      .toBe(a.html.replace(/brand-new@example\.test/g, 'E').replace(/value="[^"]+"/g, '').replace(/interaction\/[^/"]+/g, 'I'));
    expect((await waitForMessages(gh.dataDir, 'known@example.test')).at(-1)).toMatch(/already has an account/);
    // no code can complete a sign-up for an existing address
    const tryCode = await taken.agent.submit(b, formAction(b.html, '/verify'), { code: '000000' });
    expect(tryCode.status).toBe(400);
  });

  it('gives five tries at the code, then starts over', async () => {
    const { agent, page } = await signupPage();
    let verify = await agent.submit(page, formAction(page.html, '/signup'), { name: '', email: 'typo@example.test', password: PASSWORD });
    await waitForMessages(gh.dataDir, 'typo@example.test');
    const right = lastCodeFor(gh.dataDir, 'typo@example.test')!;
    const wrong = right === '111111' ? '222222' : '111111';
    for (let i = 0; i < 4; i++) {
      verify = await agent.submit(verify, formAction(verify.html, '/verify'), { code: wrong });
      expect(verify.status).toBe(400);
    }
    const fifth = await agent.submit(verify, formAction(verify.html, '/verify'), { code: wrong });
    expect(fifth.status).toBe(429);
    expect(fifth.html).toMatch(/Start again/);
  });

  it('explains a weak or malformed input and keeps what was typed', async () => {
    const { agent, page } = await signupPage();
    const short = await agent.submit(page, formAction(page.html, '/signup'), { name: 'Kept Name', email: 'short@example.test', password: 'short' });
    expect(short.status).toBe(400);
    expect(alertOf(short.html)).toMatch(/at least 8/);
    expect(short.html).toContain('value="Kept Name"');
    const mine = await agent.submit(short, formAction(short.html, '/signup'), { name: '', email: 'someone@example.test', password: 'someone@example.test!' });
    expect(alertOf(mine.html)).toMatch(/email/);
    const bad = await agent.submit(mine, formAction(mine.html, '/signup'), { name: '', email: 'not-an-email', password: PASSWORD });
    expect(alertOf(bad.html)).toMatch(/valid email/);
  });
});
