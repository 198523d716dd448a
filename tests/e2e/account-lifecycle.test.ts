// The account lifecycle end to end: second factors, step-up, verification policy, password reset
// and change, email change, sessions and apps — against real Postgres and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../../harness/http-agent.ts';
import { messagesTo, waitForMessages } from '../support/outbox.ts';
import { freshTotp, openAccount, secretOn } from '../support/account.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'lifecycle pass phrase 9';
let gh: TestServer;
let app: { client_id: string; client_secret: string };
let config: oidc.Configuration;
const rp = () => ({ issuer: gh.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT });

async function user(email: string, password = PASSWORD) {
  return gh.cliJson(['users', 'create', '--email', email, '--password', password]);
}

async function enrolTotp(email: string, password = PASSWORD): Promise<string> {
  const { agent, page } = await openAccount(gh.issuer, '/account/security', { email, password });
  const started = await agent.submit(page, '/account/security/totp', {});
  const secret = secretOn(started.html);
  const done = await agent.submit(started, '/account/security/totp/confirm', { code: await generate({ secret }) });
  expect(done.html).toContain('recovery-codes');
  return secret;
}

function codesOn(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Authorize → password → (stops at whatever comes next). */
async function passwordStep(email: string, extra: Record<string, string> = {}, agent = new Agent(), cfg = config) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid email', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra });
  let page = await agent.go(url.toString(), {}, REDIRECT);
  if (page.html.includes('current-password')) page = await agent.submit(page, formAction(page.html, '/login'), { email, password: PASSWORD }, REDIRECT);
  return { agent, page, verifier };
}

async function finishAt(cfg: oidc.Configuration, agent: Agent, page: { html: string; url: string }, verifier: string) {
  let p = page;
  if (p.html.includes('/confirm')) p = await agent.submit(p as never, formAction(p.html, '/confirm'), {}, REDIRECT);
  return oidc.authorizationCodeGrant(cfg, new URL(p.url), { pkceCodeVerifier: verifier, expectedState: 's' });
}

beforeAll(async () => {
  gh = await startServer();
  app = await gh.cliJson(['clients', 'create', '--name', 'Life', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access']);
  config = await discover(rp());
});
afterAll(async () => { await gh?.destroy(); });

describe('second factors', () => {
  it('enrols TOTP from the account page; sign-in then asks for it and says so in amr/acr', async () => {
    await user('totp@example.test');
    const secret = await enrolTotp('totp@example.test');
    const { agent, page, verifier } = await passwordStep('totp@example.test');
    expect(page.url).toMatch(/\/mfa$/);
    expect(page.html).toContain('autocomplete="one-time-code"');
    const wrong = await agent.submit(page, formAction(page.html, '/mfa'), { method: 'totp', code: '000000' });
    expect(wrong.status).toBe(401);
    const right = await agent.submit(wrong, formAction(wrong.html, '/mfa'), { method: 'totp', code: await freshTotp(secret) }, REDIRECT);
    const tokens = await finishAt(config, agent, right, verifier);
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(tokens.claims()!.acr).toBe('mfa');
  });

  it('accepts each recovery code once and locks out after repeated wrong codes', async () => {
    await user('rec@example.test');
    const secret = await enrolTotp('rec@example.test');
    const { agent: a1, page: p1 } = await openAccount(gh.issuer, '/account/security', { email: 'rec@example.test', password: PASSWORD, totpSecret: secret });
    void p1;
    // recovery codes were shown at enrolment; make a fresh set (recent sign-in holds)
    const fresh = await a1.submit(await a1.go(`${gh.issuer}/account/security`), '/account/security/recovery-codes', {});
    const codes = codesOn(fresh.html);
    expect(codes).toHaveLength(10);
    const first = await passwordStep('rec@example.test');
    const used = await first.agent.submit(first.page, formAction(first.page.html, '/mfa'), { method: 'recovery', code: codes[0]! }, REDIRECT);
    const tokens = await finishAt(config, first.agent, used, first.verifier);
    expect(tokens.claims()!.acr).toBe('mfa');
    const again = await passwordStep('rec@example.test');
    const reused = await again.agent.submit(again.page, formAction(again.page.html, '/mfa'), { method: 'recovery', code: codes[0]! });
    expect(reused.status).toBe(401);
    let last = reused;
    for (let i = 0; i < 5; i++) last = await again.agent.submit(last, formAction(last.html, '/mfa'), { method: 'totp', code: '111111' });
    expect(last.status).toBe(429);
  });

  it('steps up an existing session for acr_values=mfa without asking the password again', async () => {
    await user('step@example.test');
    // signed in with the password only (acr pwd), then enrols TOTP in the same browser session
    const first = await passwordStep('step@example.test');
    const plain = await finishAt(config, first.agent, first.page, first.verifier);
    expect(plain.claims()!.acr).toBe('pwd');
    const security = await first.agent.go(`${gh.issuer}/account/security`);
    const started = await first.agent.submit(security, '/account/security/totp', {});
    const secret = secretOn(started.html);
    await first.agent.submit(started, '/account/security/totp/confirm', { code: await generate({ secret }) });
    // an app now asks for MFA: the second step only, no password page
    const again = await passwordStep('step@example.test', { acr_values: 'mfa' }, first.agent);
    expect(again.page.url).toMatch(/\/mfa$/);
    const done = await again.agent.submit(again.page, formAction(again.page.html, '/mfa'), { method: 'totp', code: await freshTotp(secret) }, REDIRECT);
    const stepped = await finishAt(config, again.agent, done, again.verifier);
    expect(stepped.claims()!.acr).toBe('mfa');
    // and now the session satisfies it silently
    const silent = await passwordStep('step@example.test', { acr_values: 'mfa', prompt: 'none' }, first.agent);
    expect(new URL(silent.page.url).searchParams.get('code')).toBeTruthy();
  });

  it('makes a user enrol on the way when the client requires MFA', async () => {
    const strict = await gh.cliJson(['clients', 'create', '--name', 'Strict', '--redirect-uri', REDIRECT, '--require-mfa']);
    const cfg = await discover({ issuer: gh.issuer, clientId: strict.client_id, clientSecret: strict.client_secret, redirectUri: REDIRECT });
    await user('enrol@example.test');
    const { agent, page, verifier } = await passwordStep('enrol@example.test', {}, new Agent(), cfg);
    expect(page.url).toMatch(/\/mfa-setup$/);
    const secret = secretOn(page.html);
    const codes = await agent.submit(page, formAction(page.html, '/mfa-setup'), { code: await generate({ secret }) });
    expect(codesOn(codes.html)).toHaveLength(10);
    const next = await agent.submit(codes, formAction(codes.html, '/mfa-setup/done'), {}, REDIRECT);
    const tokens = await finishAt(cfg, agent, next, verifier);
    expect(tokens.claims()!.acr).toBe('mfa');
  });
});

describe('email verification policy', () => {
  it('asks for the mailed code when the client requires a verified email', async () => {
    const strict = await gh.cliJson(['clients', 'create', '--name', 'Verified only', '--redirect-uri', REDIRECT, '--require-email-verification']);
    const cfg = await discover({ issuer: gh.issuer, clientId: strict.client_id, clientSecret: strict.client_secret, redirectUri: REDIRECT });
    await user('unverified@example.test');
    const { agent, page, verifier } = await passwordStep('unverified@example.test', {}, new Agent(), cfg);
    expect(page.url).toMatch(/\/verify-email$/);
    const code = /code: (\d{6})/.exec(messagesTo(gh.dataDir, 'unverified@example.test').at(-1)!)![1]!;
    const next = await agent.submit(page, formAction(page.html, '/verify-email'), { code }, REDIRECT);
    const tokens = await finishAt(cfg, agent, next, verifier);
    expect(tokens.claims()!.email_verified).toBe(true);
  });
});

describe('password reset', () => {
  it('answers the same for unknown addresses; the link works once; everything is signed out', async () => {
    await user('reset@example.test');
    const { tokens } = await signIn(config, { ...rp(), email: 'reset@example.test', password: PASSWORD });
    const agent = new Agent();
    const form = await agent.go(`${gh.issuer}/account/forgot`);
    const known = await agent.submit(form, '/account/forgot', { email: 'reset@example.test' });
    const unknown = await agent.submit(form, '/account/forgot', { email: 'nobody-here@example.test' });
    expect(unknown.status).toBe(known.status);
    expect(unknown.html.replace(/value="[^"]+"/g, '')).toBe(known.html.replace(/value="[^"]+"/g, ''));
    const link = /(http:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]+)/.exec((await waitForMessages(gh.dataDir, 'reset@example.test')).at(-1)!.replace(/=\r?\n/g, ''))![1]!;
    const resetPage = await agent.go(link);
    const weak = await agent.submit(resetPage, '/account/reset', { new_password: 'password1', confirm_password: 'password1' });
    expect(weak.status).toBe(400);
    expect(weak.html).toMatch(/common/);
    const done = await agent.submit(weak, '/account/reset', { new_password: 'a brand new pass phrase', confirm_password: 'a brand new pass phrase' });
    expect(done.html).toMatch(/was changed/);
    expect((await agent.go(link)).status).toBe(400); // single use
    const refresh = await fetch(`${gh.issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }) });
    expect((await refresh.json() as { error: string }).error).toBe('invalid_grant');
    expect(messagesTo(gh.dataDir, 'reset@example.test').at(-1)).toMatch(/password .*was just changed/);
    await expect(signIn(config, { ...rp(), email: 'reset@example.test', password: 'a brand new pass phrase' })).resolves.toBeTruthy();
  });
});

describe('account pages', () => {
  it('changes the password with the current one and signs out everywhere', async () => {
    await user('change@example.test');
    const { agent, page } = await openAccount(gh.issuer, '/account/password', { email: 'change@example.test', password: PASSWORD });
    expect(page.html).toContain('autocomplete="current-password"');
    const wrong = await agent.submit(page, '/account/password', { current_password: 'nope nope nope', new_password: 'another good phrase', confirm_password: 'another good phrase' });
    expect(wrong.status).toBe(400);
    const ok = await agent.submit(wrong, '/account/password', { current_password: PASSWORD, new_password: 'another good phrase', confirm_password: 'another good phrase' });
    expect(ok.html).toMatch(/signed out/);
    const after = await agent.go(`${gh.issuer}/account`);
    expect(after.url).toContain('/interaction/'); // the session ended too
  });

  it('limits guesses of the current password on the change form (a held session cannot guess it without limit)', async () => {
    await user('guess@example.test');
    const { agent, page } = await openAccount(gh.issuer, '/account/password', { email: 'guess@example.test', password: PASSWORD });
    let last = page;
    for (let i = 0; i < 5; i++) {
      last = await agent.submit(last, '/account/password', { current_password: `wrong guess ${i}`, new_password: 'another good phrase', confirm_password: 'another good phrase' });
      expect(last.status).toBe(400);
    }
    // the sixth try is refused even with the right password, with a way forward
    const blocked = await agent.submit(last, '/account/password', { current_password: PASSWORD, new_password: 'another good phrase', confirm_password: 'another good phrase' });
    expect(blocked.status).toBe(429);
    expect(blocked.html).toMatch(/Too many wrong current passwords/);
    expect(blocked.html).toMatch(/reset your password by email/);
    // and the password did not change: the old one still signs in
    await expect(signIn(config, { ...rp(), email: 'guess@example.test', password: PASSWORD })).resolves.toBeTruthy();
  });

  it('changes the email only after the new address confirms, telling the old one', async () => {
    await user('old@example.test');
    const { agent, page } = await openAccount(gh.issuer, '/account/email', { email: 'old@example.test', password: PASSWORD });
    const sent = await agent.submit(page, '/account/email', { email: 'new-address@example.test' });
    expect(sent.html).toMatch(/Check your new inbox/);
    expect((await waitForMessages(gh.dataDir, 'old@example.test')).at(-1)).toMatch(/new-address@example\.test/);
    expect((await gh.cliJson(['users', 'show', 'old@example.test'])).email).toBe('old@example.test');
    const code = /code: (\d{6})/.exec((await waitForMessages(gh.dataDir, 'new-address@example.test')).at(-1)!)![1]!;
    await agent.submit(sent, '/account/email/confirm', { code });
    const shown = await gh.cliJson(['users', 'show', 'new-address@example.test']);
    expect(shown.email_verified).toBe(true);
    expect(messagesTo(gh.dataDir, 'old@example.test').at(-1)).toMatch(/is now new-address@example\.test/);
  });

  it('lists sessions and apps; revoking an app stops its refresh token at once', async () => {
    await user('apps@example.test');
    const { tokens } = await signIn(config, { ...rp(), email: 'apps@example.test', password: PASSWORD });
    const { agent, page } = await openAccount(gh.issuer, '/account/apps', { email: 'apps@example.test', password: PASSWORD });
    expect(page.html).toContain('Life');
    const action = /action="(\/account\/apps\/[^"]+\/revoke)"/.exec(page.html)![1]!;
    await agent.submit(page, action, {});
    const r = await fetch(`${gh.issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }) });
    expect((await r.json() as { error: string }).error).toBe('invalid_grant');
    const sessions = await agent.go(`${gh.issuer}/account/sessions`);
    expect(sessions.html).toContain('This device');
  });

  it('ends the sessions of a disabled account', async () => {
    await user('off@example.test');
    const { agent } = await openAccount(gh.issuer, '/account', { email: 'off@example.test', password: PASSWORD });
    await gh.cliJson(['users', 'disable', 'off@example.test']);
    const after = await agent.go(`${gh.issuer}/account`);
    expect(after.url).toContain('/interaction/');
  });
});
