// Throttling an attacker cannot turn against the owner (issue 11): wrong passwords and wrong codes
// from many addresses, reset and sign-up requests for someone else's address. Client addresses
// come from X-Forwarded-For behind one trusted proxy hop, so each "attacker" has its own IP.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, type Page } from '../../harness/http-agent.ts';
import { freshTotp, openAccount, secretOn } from '../support/account.ts';
import { messagesTo, waitForMessages } from '../support/outbox.ts';
import { LOGIN_LIMITS, MFA_LIMITS, RESET_LIMITS, SIGNUP_LIMITS } from '../../src/security/rate-limit.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'correct battery staple 31';
let gh: TestServer;
let config: oidc.Configuration;

/** A browser at a given client address (the one trusted proxy hop says so). */
class BrowserAt extends Agent {
  ip: string;
  constructor(ip: string) { super(); this.ip = ip; }
  override request(url: string, init: RequestInit = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-forwarded-for': this.ip } });
  }
}

async function authorize(agent: Agent, extra: Record<string, string> = {}): Promise<Page> {
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', state: 's',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra });
  return agent.go(url.toString(), {}, REDIRECT);
}

async function password(agent: Agent, email: string, pw: string, extra: Record<string, string> = {}): Promise<Page> {
  const page = await authorize(agent, extra);
  return agent.submit(page, formAction(page.html, '/login'), { email, password: pw }, REDIRECT);
}

const retryAfter = (p: Page) => Number(p.headers.get('retry-after'));
const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1]?.trim();
const linkIn = (mail: string) => /(http:\/\/\S+\/account\/reset[?/]\S+)/.exec(mail.replace(/=\r?\n/g, ''))![1]!.replace(/&amp;/g, '&');

async function resetWith(agent: Agent, link: string, newPassword: string): Promise<Page> {
  const form = await agent.go(link);
  expect(form.status).toBe(200);
  return agent.submit(form, formAction(form.html, '/account/reset'), { new_password: newPassword, confirm_password: newPassword });
}

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_TRUST_PROXY: 'true' } });
  const c = await gh.cliJson(['clients', 'create', '--name', 'Lockout', '--redirect-uri', REDIRECT]);
  config = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
});
afterAll(async () => { await gh?.destroy(); });

describe('wrong passwords from many addresses', () => {
  const owner = new BrowserAt('10.1.0.1');
  const email = 'owner@example.test';

  beforeAll(async () => {
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
    // the owner signs in once from this browser: it becomes a known device for the account
    const first = await password(owner, email, PASSWORD);
    expect(first.status).not.toBe(429);
    // an attacker spends the account's whole budget, spread over addresses under the per-IP+account
    // limit on each (exactly the budget: the block must follow from it, not from going over)
    const perIp = LOGIN_LIMITS.ipAccount.points - 1;
    const total = LOGIN_LIMITS.account.points;
    await Promise.all(Array.from({ length: Math.ceil(total / perIp) }, async (_, i) => {
      for (let n = 0; n < Math.min(perIp, total - i * perIp); n++) await password(new BrowserAt(`10.66.0.${i + 1}`), email, `wrong guess ${i}-${n}`);
    }));
  });

  it('blocks new browsers for the documented block, not an hour', async () => {
    const stranger = await password(new BrowserAt('10.2.0.1'), email, PASSWORD);
    expect(stranger.status).toBe(429);
    expect(retryAfter(stranger)).toBeGreaterThan(0);
    expect(retryAfter(stranger)).toBeLessThanOrEqual(LOGIN_LIMITS.account.blockDuration);
    expect(alertOf(stranger.html)).toMatch(/reset your password/);
  });

  it('lets the owner in from the browser that signed in before, at a new address', async () => {
    expect(owner.cookies.has('gh_device')).toBe(true);
    owner.ip = '10.1.0.2';
    const again = await password(owner, email, PASSWORD, { prompt: 'login' });
    expect(again.status).not.toBe(429);
    expect(again.url.startsWith(REDIRECT) || again.html.includes('/confirm')).toBe(true);
  });

  it('clears the failures when the owner resets the password', async () => {
    const asker = new BrowserAt('10.1.0.3');
    const form = await asker.go(`${gh.issuer}/account/forgot`);
    await asker.submit(form, '/account/forgot', { email });
    const mails = await waitForMessages(gh.dataDir, email);
    const done = await resetWith(asker, linkIn(mails.at(-1)!), 'another fresh phrase 32');
    expect(done.html).toMatch(/was changed/);
    // the browser that was blocked a moment ago gets in with the new password
    const stranger = await password(new BrowserAt('10.2.0.1'), email, 'another fresh phrase 32');
    expect(stranger.status).not.toBe(429);
    expect(stranger.url.startsWith(REDIRECT) || stranger.html.includes('/confirm')).toBe(true);
  });
});

describe('wrong second-factor codes from many addresses', () => {
  const email = 'mfa-owner@example.test';
  const owner = new BrowserAt('10.3.0.1');
  let secret = '';

  beforeAll(async () => {
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
    const { agent, page } = await openAccount(gh.issuer, '/account/security', { email, password: PASSWORD }, owner);
    const started = await agent.submit(page, '/account/security/totp', {});
    secret = secretOn(started.html);
    const done = await agent.submit(started, '/account/security/totp/confirm', { code: await generate({ secret }) });
    expect(done.html).toContain('recovery-codes');
    // someone who has the password sends wrong codes from three addresses
    const perIp = MFA_LIMITS.ipAccount.points - 1;
    const ips = Math.ceil(MFA_LIMITS.account.points / perIp);
    for (let i = 0; i < ips; i++) {
      const attacker = new BrowserAt(`10.77.0.${i + 1}`);
      let page2 = await password(attacker, email, PASSWORD);
      expect(page2.url).toMatch(/\/mfa$/);
      for (let n = 0; n < perIp; n++) page2 = await attacker.submit(page2, formAction(page2.html, '/mfa'), { method: 'totp', code: n % 2 ? '000000' : '999999' });
    }
  });

  it('blocks new browsers for the documented block, not until the hour ends', async () => {
    const stranger = new BrowserAt('10.4.0.1');
    const page = await password(stranger, email, PASSWORD);
    const res = await stranger.submit(page, formAction(page.html, '/mfa'), { method: 'totp', code: '123456' });
    expect(res.status).toBe(429);
    expect(retryAfter(res)).toBeGreaterThan(0);
    expect(retryAfter(res)).toBeLessThanOrEqual(MFA_LIMITS.account.blockDuration);
  });

  it("lets the owner's browser finish with the right code", async () => {
    expect(owner.cookies.has('gh_device')).toBe(true);
    owner.ip = '10.3.0.2';
    const page = await password(owner, email, PASSWORD, { prompt: 'login' });
    expect(page.url).toMatch(/\/mfa$/);
    const done = await owner.submit(page, formAction(page.html, '/mfa'), { method: 'totp', code: await freshTotp(secret) }, REDIRECT);
    expect(done.status).not.toBe(429);
    expect(done.url.startsWith(REDIRECT) || done.html.includes('/confirm')).toBe(true);
  });
});

describe('password reset requests for someone else', () => {
  it('keeps every mailed link valid, and throttles further mail briefly without telling who exists', async () => {
    const email = 'links@example.test';
    await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD]);
    const ask = async (ip: string, address: string) => {
      const agent = new BrowserAt(ip);
      const form = await agent.go(`${gh.issuer}/account/forgot`);
      return agent.submit(form, '/account/forgot', { email: address });
    };
    for (let i = 0; i < RESET_LIMITS.email.points; i++) {
      expect((await ask(`10.88.0.${i + 1}`, email)).status).toBe(200);
      expect((await ask(`10.88.0.${i + 1}`, 'nobody-links@example.test')).status).toBe(200);
    }
    const mails = await waitForMessages(gh.dataDir, email, RESET_LIMITS.email.points);
    expect(mails).toHaveLength(RESET_LIMITS.email.points);
    // asking again did not kill the first link (each request used to delete the earlier ones)
    expect((await new BrowserAt('10.5.0.3').go(linkIn(mails[0]!))).status).toBe(200);
    // one more, from yet another address: refused for minutes, the same for an unknown address
    const more = await ask('10.88.1.1', email);
    const unknown = await ask('10.88.1.2', 'nobody-links@example.test');
    expect(more.status).toBe(429);
    expect(retryAfter(more)).toBeLessThanOrEqual(RESET_LIMITS.email.blockDuration);
    expect(alertOf(more.html)).toMatch(/still work/);
    expect(unknown.status).toBe(429);
    expect(unknown.html.replace(/value="[^"]*"/g, '')).toBe(more.html.replace(/value="[^"]*"/g, ''));
    await new Promise((r) => setTimeout(r, 300));
    expect(messagesTo(gh.dataDir, email)).toHaveLength(RESET_LIMITS.email.points);
    // the first link mailed, which the later requests used to delete, still works
    const done = await resetWith(new BrowserAt('10.5.0.1'), linkIn(mails[0]!), 'a fresh start phrase 33');
    expect(done.html).toMatch(/was changed/);
    // and the others were not spent by it
    expect((await new BrowserAt('10.5.0.2').go(linkIn(mails[1]!))).status).toBe(200);
  });
});

describe('sign-up mail to one address', () => {
  async function signup(ip: string, address: string): Promise<Page> {
    const agent = new BrowserAt(ip);
    const page = await authorize(agent);
    const href = /href="([^"]*\/signup)"/.exec(page.html)![1]!.replaceAll('&#x2F;', '/');
    const form = await agent.go(new URL(href, page.url).toString());
    return agent.submit(form, formAction(form.html, '/signup'), { name: 'X', email: address, password: PASSWORD });
  }

  it('is limited per target address, from any number of IPs, the same for new and taken addresses', async () => {
    const taken = 'inbox-owner@example.test';
    const fresh = 'inbox-fresh@example.test';
    await gh.cliJson(['users', 'create', '--email', taken, '--password', PASSWORD]);
    for (let i = 0; i < SIGNUP_LIMITS.email.points; i++) {
      expect((await signup(`10.99.0.${i + 1}`, taken)).url).toMatch(/\/verify$/);
      expect((await signup(`10.99.1.${i + 1}`, fresh)).url).toMatch(/\/verify$/);
    }
    await waitForMessages(gh.dataDir, taken, SIGNUP_LIMITS.email.points);
    const a = await signup('10.99.2.1', taken);
    const b = await signup('10.99.2.2', fresh);
    expect(a.status).toBe(429);
    expect(b.status).toBe(429);
    expect(retryAfter(a)).toBeLessThanOrEqual(SIGNUP_LIMITS.email.blockDuration);
    expect(alertOf(a.html)).toBe(alertOf(b.html));
    await new Promise((r) => setTimeout(r, 300));
    expect(messagesTo(gh.dataDir, taken)).toHaveLength(SIGNUP_LIMITS.email.points);
    expect(messagesTo(gh.dataDir, fresh)).toHaveLength(SIGNUP_LIMITS.email.points);
  });
});
