// Each event type fires once for its change, wherever the change is made: the operator CLI, the
// admin and account APIs, the hosted pages, an import, an upstream sign-in. A real receiver
// subscribed to every type (`*`) verifies each delivery with the `standardwebhooks` library; each
// payload carries only the fields the catalog lists for its type, and nothing secret.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { startServer, type TestServer } from '../support/server.ts';
import { startSignedReceiver, type Received, type SignedReceiver } from '../support/signed-receiver.ts';
import { Agent, discover, formAction, signIn, type Page } from '../../harness/http-agent.ts';
import { OriginAgent, registerProvider, startUpstreamGatehouse } from '../support/upstream.ts';
import { lastCodeFor, messagesTo, waitForMessages } from '../support/outbox.ts';
import { openAccount, secretOn } from '../support/account.ts';
import { WEBHOOK_EVENTS } from '../../src/webhooks/events.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'webhook events pass phrase 8';
/** After the expected message arrived, how long a duplicate would have to show up. */
const SETTLE_MS = 1500;
let gh: TestServer;
let rx: SignedReceiver;
let client: { client_id: string; client_secret: string };
let cfg: oidc.Configuration;
let adminToken: string;
const seen = new Set<string>(); // the (type, subject) pairs a test has claimed
/** Each CLI command starts a process that opens the stores: a test of many commands needs minutes on a busy machine. */
jest.setTimeout(300_000);

const fieldsOf = new Map(WEBHOOK_EVENTS.map((e) => [e.type, Object.keys(e.fields)]));
const rp = () => ({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
const tokenFor = async (email: string, scope: string, password = PASSWORD) => (await signIn(cfg, { ...rp(), email, password, scope })).tokens.access_token;
const bearer = (token: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
const adminApi = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(`${gh.issuer}/api/admin${path}`, bearer(adminToken, init));
  if (r.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? undefined : r.json() as Promise<any>;
};

/**
 * Runs `change`, then expects exactly one message of `type` whose data matches `match` (and no
 * second one within SETTLE_MS), with only the catalog's fields and nothing secret in it.
 */
async function firesOnce(type: string, match: Record<string, unknown>, change: () => Promise<unknown>): Promise<Received> {
  const before = rx.accepted.length;
  await change();
  const mine = (list: Received[]) => list.slice(before).filter((m) => m.type === type && Object.entries(match).every(([k, v]) => JSON.stringify(m.data[k]) === JSON.stringify(v)));
  await rx.waitFor((list) => mine(list).length > 0);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const got = mine(rx.accepted);
  expect(got).toHaveLength(1);
  const m = got[0]!;
  expect(Object.keys(m.data).filter((k) => !fieldsOf.get(type)!.includes(k))).toEqual([]);
  expect(JSON.stringify(m.data)).not.toMatch(/whsec_|\$argon2|\$2[aby]\$|eyJ[A-Za-z0-9_-]{10,}|pass phrase/);
  expect(m.id).toMatch(/^msg_/);
  expect(Number.isNaN(Date.parse(m.timestamp))).toBe(false);
  seen.add(type);
  return m;
}

beforeAll(async () => {
  rx = await startSignedReceiver();
  gh = await startServer({ env: { GATEHOUSE_WEBHOOK_POLL_MS: '100' } });
  const hook = await gh.cliJson(['webhooks', 'add', '--url', `${rx.origin}/all`, '--events', '*']);
  rx.secrets.set('/all', hook.secret);
  client = await gh.cliJson(['clients', 'create', '--name', 'Event App', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email offline_access admin profile:write workspace workspace:manage']);
  cfg = await discover(rp());
  await gh.cliJson(['users', 'create', '--email', 'events-admin@example.test', '--password', PASSWORD, '--admin', '--verified']);
  adminToken = await tokenFor('events-admin@example.test', 'openid admin');
});
afterAll(async () => { await gh?.destroy(); await rx?.close(); });

describe('changes made with the operator CLI', () => {
  it('users: created, updated, disabled, enabled', async () => {
    let id = '';
    const m = await firesOnce('user.created', { source: 'cli' }, async () => { id = (await gh.cliJson(['users', 'create', '--email', 'cli-user@example.test', '--password', PASSWORD])).id; });
    expect(m.data.user_id).toBe(id);
    await firesOnce('user.updated', { user_id: id, fields: ['mfa_required'] }, () => gh.cliJson(['users', 'require-mfa', id]));
    await firesOnce('user.disabled', { user_id: id }, () => gh.cliJson(['users', 'disable', id]));
    await firesOnce('user.enabled', { user_id: id }, () => gh.cliJson(['users', 'enable', id]));
  });

  it('workspaces: created, member added, role changed, member removed', async () => {
    await gh.cliJson(['users', 'create', '--email', 'ws-owner@example.test', '--password', PASSWORD, '--verified']);
    const member = await gh.cliJson(['users', 'create', '--email', 'ws-member@example.test', '--password', PASSWORD]);
    let wsId = '';
    const created = await firesOnce('workspace.created', { slug: 'events-co' }, async () => { wsId = (await gh.cliJson(['workspaces', 'create', '--slug', 'events-co', '--name', 'Events Co', '--owner', 'ws-owner@example.test'])).id; });
    expect(created.data.workspace_id).toBe(wsId);
    await firesOnce('workspace.member_added', { workspace_id: wsId, user_id: member.id, role: 'member' }, () => gh.cliJson(['workspaces', 'add-member', '--workspace', 'events-co', '--email', 'ws-member@example.test']));
    await firesOnce('workspace.member_role_changed', { workspace_id: wsId, user_id: member.id, role: 'admin', previous_role: 'member' },
      () => gh.cliJson(['workspaces', 'add-member', '--workspace', 'events-co', '--email', 'ws-member@example.test', '--role', 'admin']));
    await firesOnce('workspace.member_removed', { workspace_id: wsId, user_id: member.id }, () => gh.cliJson(['workspaces', 'remove-member', '--workspace', 'events-co', '--email', 'ws-member@example.test']));
  });
});

describe('changes made through the APIs', () => {
  it('admin API: user created, updated, second factors reset, sessions revoked, deleted', async () => {
    let id = '';
    await firesOnce('user.created', { source: 'admin' }, async () => { id = (await adminApi('/users', { method: 'POST', body: JSON.stringify({ email: 'api-user@example.test', password: PASSWORD }) })).id; });
    await firesOnce('user.updated', { user_id: id, fields: ['name'] }, () => adminApi(`/users/${id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Api User' }) }));
    await firesOnce('user.mfa_changed', { user_id: id, change: 'reset' }, () => adminApi(`/users/${id}/reset-mfa`, { method: 'POST' }));
    await firesOnce('session.revoked', { user_id: id, all: true, by: 'admin' }, () => adminApi(`/users/${id}/revoke-sessions`, { method: 'POST' }));
    await firesOnce('user.deleted', { user_id: id }, () => adminApi(`/users/${id}`, { method: 'DELETE' }));
  });

  it('account API: the user changes their own profile', async () => {
    const u = await gh.cliJson(['users', 'create', '--email', 'me-api@example.test', '--password', PASSWORD, '--verified']);
    const token = await tokenFor('me-api@example.test', 'openid profile:write');
    const m = await firesOnce('user.updated', { user_id: u.id, fields: ['name'] }, async () => {
      const r = await fetch(`${gh.issuer}/api/me`, bearer(token, { method: 'PATCH', body: JSON.stringify({ name: 'Self Made' }) }));
      expect(r.status).toBe(200);
    });
    expect(m.data.source).toBe('user');
  });

  it('workspace API: renamed and deleted by its owner', async () => {
    const owner = await gh.cliJson(['users', 'create', '--email', 'ws-api-owner@example.test', '--password', PASSWORD, '--verified']);
    const ws = await gh.cliJson(['workspaces', 'create', '--slug', 'api-team', '--name', 'Api Team', '--owner', owner.id]);
    const token = await tokenFor('ws-api-owner@example.test', 'openid workspace workspace:manage');
    await firesOnce('workspace.renamed', { workspace_id: ws.id, name: 'Api Team 2', previous_name: 'Api Team' }, async () => {
      expect((await fetch(`${gh.issuer}/api/workspaces/${ws.id}`, bearer(token, { method: 'PATCH', body: JSON.stringify({ name: 'Api Team 2' }) }))).status).toBe(200);
    });
    await firesOnce('workspace.deleted', { workspace_id: ws.id, slug: 'api-team' }, async () => {
      expect((await fetch(`${gh.issuer}/api/workspaces/${ws.id}`, bearer(token, { method: 'DELETE' }))).status).toBeLessThan(300);
    });
  });
});

describe('changes made on the hosted pages', () => {
  it('sign-up: the new account', async () => {
    const agent = new Agent();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid email', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const login = await agent.go(url.toString(), {}, REDIRECT);
    const signup = await agent.go(new URL(/href="([^"]*\/signup)"/.exec(login.html)![1]!.replaceAll('&#x2F;', '/'), login.url).toString());
    const m = await firesOnce('user.created', { source: 'signup' }, async () => {
      const verify = await agent.submit(signup, formAction(signup.html, '/signup'), { name: 'Hosted Person', email: 'hosted@example.test', password: PASSWORD });
      await waitForMessages(gh.dataDir, 'hosted@example.test');
      await agent.submit(verify, formAction(verify.html, '/verify'), { code: lastCodeFor(gh.dataDir, 'hosted@example.test')! }, REDIRECT);
    });
    expect(m.data.user_id).toBe((await gh.cliJson(['users', 'show', 'hosted@example.test'])).id);
  });

  it('account pages: profile, password, second factor, signing out everywhere', async () => {
    const u = await gh.cliJson(['users', 'create', '--email', 'pages@example.test', '--password', PASSWORD, '--verified']);
    const { agent, page } = await openAccount(gh.issuer, '/account', { email: 'pages@example.test', password: PASSWORD });
    await firesOnce('user.updated', { user_id: u.id, source: 'user' }, () => agent.submit(page, '/account/profile', { name: 'Paged Person' }));
    const security = await agent.go(`${gh.issuer}/account/security`);
    let secret = '';
    await firesOnce('user.mfa_changed', { user_id: u.id, change: 'enrolled' }, async () => {
      const started = await agent.submit(security, '/account/security/totp', {});
      secret = secretOn(started.html);
      await agent.submit(started, '/account/security/totp/confirm', { code: await generate({ secret }) });
    });
    // a new password ends every session, this one included: the last step signs in again
    const pw = await agent.go(`${gh.issuer}/account/password`);
    await firesOnce('user.password_changed', { user_id: u.id, method: 'changed' },
      () => agent.submit(pw, '/account/password', { current_password: PASSWORD, new_password: `${PASSWORD} renewed`, confirm_password: `${PASSWORD} renewed` }));
    const again = await openAccount(gh.issuer, '/account/sessions', { email: 'pages@example.test', password: `${PASSWORD} renewed`, totpSecret: secret });
    await firesOnce('session.revoked', { user_id: u.id, all: true, by: 'user' }, () => again.agent.submit(again.page, '/account/sessions/end-all', {}));
  });

  it('account pages: verifying the email, removing an app\'s access', async () => {
    const u = await gh.cliJson(['users', 'create', '--email', 'verify-me@example.test', '--password', PASSWORD]);
    await signIn(cfg, { ...rp(), email: 'verify-me@example.test', password: PASSWORD, scope: 'openid offline_access' }); // a grant to remove
    const { agent, page } = await openAccount(gh.issuer, '/account/email', { email: 'verify-me@example.test', password: PASSWORD });
    await firesOnce('user.email_verified', { user_id: u.id }, async () => {
      const sent = await agent.submit(page, '/account/verify-email/resend', {});
      await waitForMessages(gh.dataDir, 'verify-me@example.test');
      const code = /with this code: (\d{6})/.exec(messagesTo(gh.dataDir, 'verify-me@example.test').at(-1)!)![1]!;
      await agent.submit(sent, '/account/verify-email', { code });
    });
    const apps = await agent.go(`${gh.issuer}/account/apps`);
    const revoke = /Event App<\/strong>[\s\S]*?action="(\/account\/apps\/[^"]+\/revoke)"/.exec(apps.html)![1]!.replaceAll('&#x2F;', '/');
    await firesOnce('grant.revoked', { user_id: u.id, client_id: client.client_id }, () => agent.submit(apps, revoke, {}));
  });

  it('sign-in: an address locked out after repeated failures', async () => {
    await gh.cliJson(['users', 'create', '--email', 'guessed@example.test', '--password', PASSWORD]);
    const before = rx.accepted.length;
    let blocked = 0;
    const agent = new Agent();
    const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    let page = await agent.go(url.toString(), {}, REDIRECT);
    for (let i = 0; i < 7 && blocked === 0; i++) {
      page = await agent.submit(page, formAction(page.html, '/login'), { email: 'guessed@example.test', password: `wrong guess ${i}` });
      if (page.headers.get('retry-after')) blocked++;
    }
    expect(blocked).toBe(1);
    await rx.waitFor((list) => list.slice(before).some((m) => m.type === 'signin.failed_repeatedly'));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const got = rx.accepted.slice(before).filter((m) => m.type === 'signin.failed_repeatedly');
    expect(got.map((m) => m.data)).toEqual([{ email: 'guessed@example.test' }]);
    seen.add('signin.failed_repeatedly');
  });
});

describe('changes made by an import', () => {
  it('each imported user is created once', async () => {
    const file = join(gh.dataDir, 'import.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: '6f0b7c1e-3f5a-4c2d-9a8b-1c2d3e4f5a6b', email: 'imported@example.test', email_verified: true, name: 'Imported' })}\n`);
    const m = await firesOnce('user.created', { user_id: '6f0b7c1e-3f5a-4c2d-9a8b-1c2d3e4f5a6b' }, async () => {
      const r = await gh.cli(['users', 'import', file, '--json']);
      expect(r.code).toBe(0);
    });
    expect(m.data.source).toBe('import');
  });
});

describe('changes made by an upstream sign-in', () => {
  let up: TestServer | undefined;
  afterAll(async () => { await up?.destroy(); });

  it('the first sign-in through an upstream provider creates the user and links the identity, once each', async () => {
    const upstream = await startUpstreamGatehouse(`${gh.issuer}/providers/corp/callback`);
    up = upstream.server;
    await registerProvider(gh, {
      name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: up.issuer, client_id: upstream.clientId, client_secret: upstream.clientSecret,
      allow_signup: true, trust_email_verified: true,
    });
    await up.cliJson(['users', 'create', '--email', 'fed@corp.test', '--password', PASSWORD, '--verified']);
    const agent = new OriginAgent();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid email', state: 'st', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', idp: 'corp' });
    const before = rx.accepted.length;
    const created = await firesOnce('user.created', { source: 'upstream', provider: 'corp' }, async () => {
      let page: Page = await agent.go(url.href, {}, REDIRECT);
      for (let i = 0; i < 4 && page.url.startsWith(up!.issuer); i++) {
        if (page.html.includes('autocomplete="current-password"')) page = await agent.submit(page, formAction(page.html, '/login'), { email: 'fed@corp.test', password: PASSWORD }, REDIRECT);
        else if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
      }
      if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
      expect(page.url.startsWith(REDIRECT)).toBe(true);
    });
    const linked = rx.accepted.slice(before).filter((m) => m.type === 'identity.linked');
    expect(linked).toEqual([expect.objectContaining({ data: expect.objectContaining({ user_id: created.data.user_id, provider: 'corp', subject: expect.any(String) }) })]);
    seen.add('identity.linked');

    // with a password of its own (another way in), the account may unlink the upstream sign-in
    const pw = await agent.go(`${gh.issuer}/account/password`);
    await agent.submit(pw, '/account/password', { new_password: `${PASSWORD} own`, confirm_password: `${PASSWORD} own` });
    const list = await agent.go(`${gh.issuer}/account/identities`);
    const unlink = /href="(\/account\/identities\/[^"]+\/unlink)"/.exec(list.html.replaceAll('&#x2F;', '/'))![1]!;
    const confirm = await agent.go(`${gh.issuer}${unlink}`);
    await firesOnce('identity.unlinked', { user_id: created.data.user_id, provider: 'corp', subject: linked[0]!.data.subject },
      () => agent.submit(confirm, unlink, {}));
  });
});

describe('coverage', () => {
  it('every event type of the catalog fired above', () => {
    expect(WEBHOOK_EVENTS.map((e) => e.type).filter((t) => !seen.has(t))).toEqual([]);
  });
});
