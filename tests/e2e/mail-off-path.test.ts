// Mail that depends on whether an account exists goes out after the answer (issue 11: reset
// answered existing addresses measurably slower). Structural check: with an SMTP server that takes
// seconds to accept each message, the forgot-password and sign-up answers do not wait for it —
// for existing and unknown addresses alike — and the mail still arrives.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { startServer, type TestServer } from '../support/server.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { Agent, discover, formAction } from '../../harness/http-agent.ts';

/** How long the sink sits on each message before accepting it. */
const SMTP_STALL_MS = 6000;
/** An answer that waited for SMTP takes at least SMTP_STALL_MS; one that did not, far less. */
const ANSWER_BOUND_MS = SMTP_STALL_MS / 2;
const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'quiet mail pass phrase 7';

let sink: SmtpSink;
let gh: TestServer;
let config: oidc.Configuration;

beforeAll(async () => {
  sink = await startSmtpSink({ stallMs: SMTP_STALL_MS });
  gh = await startServer({ env: { SMTP_URL: sink.url } });
  await gh.cliJson(['users', 'create', '--email', 'slow-mail@example.test', '--password', PASSWORD]);
  const c = await gh.cliJson(['clients', 'create', '--name', 'Mail', '--redirect-uri', REDIRECT]);
  config = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
});
afterAll(async () => {
  await gh?.destroy();
  await sink?.stop();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function arrived(to: string): Promise<boolean> {
  for (let i = 0; i < (SMTP_STALL_MS * 3) / 100; i++) {
    if (sink.received.some((m) => m.to.includes(to))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

it('answers a password-reset request without waiting for the mail, for known and unknown addresses', async () => {
  const agent = new Agent();
  const form = await agent.go(`${gh.issuer}/account/forgot`);
  const known = await timed(() => agent.submit(form, '/account/forgot', { email: 'slow-mail@example.test' }));
  const unknown = await timed(() => agent.submit(form, '/account/forgot', { email: 'nobody-slow@example.test' }));
  expect(known.value.status).toBe(200);
  expect(unknown.value.status).toBe(200);
  expect(known.ms).toBeLessThan(ANSWER_BOUND_MS);
  expect(unknown.ms).toBeLessThan(ANSWER_BOUND_MS);
  expect(await arrived('slow-mail@example.test')).toBe(true);
  expect(sink.received.filter((m) => m.to.includes('nobody-slow@example.test'))).toHaveLength(0);
});

it('answers a sign-up without waiting for the code or the notice', async () => {
  for (const address of ['slow-mail@example.test', 'new-slow@example.test']) {
    const agent = new Agent();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const login = await agent.go(url.toString(), {}, REDIRECT);
    const href = /href="([^"]*\/signup)"/.exec(login.html)![1]!.replaceAll('&#x2F;', '/');
    const form = await agent.go(new URL(href, login.url).toString());
    const before = sink.received.filter((m) => m.to.includes(address)).length;
    const res = await timed(() => agent.submit(form, formAction(form.html, '/signup'), { name: 'S', email: address, password: PASSWORD }));
    expect(res.value.url).toMatch(/\/verify$/);
    expect(res.ms).toBeLessThan(ANSWER_BOUND_MS);
    for (let i = 0; i < 180 && sink.received.filter((m) => m.to.includes(address)).length === before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sink.received.filter((m) => m.to.includes(address)).length).toBe(before + 1);
  }
});
