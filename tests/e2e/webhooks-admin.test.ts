// Managing webhook endpoints: the operator CLI (--json), the admin API (who may call it, 400/403/404,
// the OpenAPI document and its webhooks section) and the console in Chromium (desktop and phone
// screenshots). A real receiver verifies every delivery with the `standardwebhooks` library.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, newContext, screenshot, signInAs } from '../support/browser.ts';
import { startSignedReceiver, type SignedReceiver } from '../support/signed-receiver.ts';
import { discover, signIn } from '../../harness/http-agent.ts';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
/** Each CLI command starts a process that opens the stores: a test of many commands needs minutes on a busy machine. */
const MANY_COMMANDS_MS = 300_000;
const PASSWORD = 'webhook admin pass phrase 3';
let gh: TestServer;
let rx: SignedReceiver;
let adminToken: string | undefined;
let plebToken: string | undefined;
let admin: { id: string };

const api = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}/api/admin/webhooks${path}`, {
  ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
});
const json = async (r: Response) => ({ status: r.status, body: r.status === 204 ? undefined : await r.json() as any });
const post = (path: string, body?: unknown, token = adminToken) => api(path, token, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

jest.setTimeout(MANY_COMMANDS_MS);

beforeAll(async () => {
  rx = await startSignedReceiver();
  // a failing endpoint is disabled after 2 s of failures, retried every second: the console shows why
  gh = await startServer({ env: { GATEHOUSE_ADMIN_CONSOLE_MFA: 'false', GATEHOUSE_WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1,1', GATEHOUSE_WEBHOOK_DISABLE_AFTER_SECONDS: '2', GATEHOUSE_WEBHOOK_POLL_MS: '100' } });
  const client = await gh.cliJson(['clients', 'create', '--name', 'Ops scripts', '--redirect-uri', REDIRECT, '--scopes', 'openid admin']);
  admin = await gh.cliJson(['users', 'create', '--email', 'hooks-admin@example.test', '--password', PASSWORD, '--admin']);
  await gh.cliJson(['users', 'create', '--email', 'hooks-pleb@example.test', '--password', PASSWORD]);
  await gh.cliJson(['workspaces', 'create', '--slug', 'acme', '--name', 'Acme', '--owner', 'hooks-admin@example.test']);
  const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
  tokenFor = async (email: string, scope: string) => (await signIn(cfg, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email, password: PASSWORD, scope })).tokens.access_token;
});
let tokenFor: (email: string, scope: string) => Promise<string>;
/** The admin's and a non-admin's tokens, on first use. */
async function tokens() {
  adminToken ??= await tokenFor('hooks-admin@example.test', 'openid admin');
  plebToken ??= await tokenFor('hooks-pleb@example.test', 'openid admin');
}
afterAll(async () => { await gh?.destroy(); await rx?.close(); });

describe('the CLI', () => {
  it('adds an endpoint, printing its id and secret once, and manages it through its life', async () => {
    const added = await gh.cliJson(['webhooks', 'add', '--url', `${rx.origin}/cli`, '--events', 'user.created,user.updated', '--workspace', 'acme', '--description', 'CRM sync']);
    expect(added.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(added).toEqual(expect.objectContaining({ url: `${rx.origin}/cli`, events: ['user.created', 'user.updated'], description: 'CRM sync', enabled: true }));
    expect(added.workspace).toEqual(expect.objectContaining({ slug: 'acme', name: 'Acme' }));
    rx.secrets.set('/cli', added.secret);

    // the secret is never shown again
    const listed = await gh.cliJson(['webhooks', 'list']);
    expect(listed.map((e: { id: string }) => e.id)).toContain(added.id);
    const shown = await gh.cliJson(['webhooks', 'show', added.id]);
    expect(JSON.stringify([listed, shown])).not.toContain(added.secret);
    expect(JSON.stringify([listed, shown])).not.toContain('secret');
    const human = await gh.cli(['webhooks', 'list']);
    expect(human.stdout).toContain(added.id);
    expect(human.stdout).not.toContain(added.secret);

    // a ping, verified by the receiver with the standardwebhooks library
    const ping = await gh.cliJson(['webhooks', 'test', added.id]);
    expect(ping).toEqual(expect.objectContaining({ ok: true, status_code: 204 }));
    await rx.waitFor((a) => a.some((m) => m.path === '/cli' && m.type === 'webhook.test'));

    const updated = await gh.cliJson(['webhooks', 'update', added.id, '--events', '*', '--all-workspaces', '--description', 'everything']);
    expect(updated).toEqual(expect.objectContaining({ events: ['*'], workspace: null, description: 'everything' }));

    // a new secret: the receiver still holding the old one refuses the next ping
    const rotated = await gh.cliJson(['webhooks', 'rotate-secret', added.id]);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(added.secret);
    const refusedPing = await gh.cliJson(['webhooks', 'test', added.id]);
    expect(refusedPing).toEqual(expect.objectContaining({ ok: false, status_code: 400 }));
    rx.secrets.set('/cli', rotated.secret);
    expect((await gh.cliJson(['webhooks', 'test', added.id])).ok).toBe(true);

    const log = await gh.cliJson(['webhooks', 'deliveries', added.id, '--limit', '2']);
    expect(log.total).toBe(3);
    expect(log.deliveries).toHaveLength(2);
    expect(log.deliveries[0]).toEqual(expect.objectContaining({ event_type: 'webhook.test', status_code: 204, attempt: 1 }));
    expect(log.deliveries[1]).toEqual(expect.objectContaining({ status_code: 400, response_excerpt: 'signature did not verify' }));
    const page2 = await gh.cliJson(['webhooks', 'deliveries', added.id, '--limit', '2', '--offset', '2']);
    expect(page2.deliveries).toHaveLength(1);
    expect((await gh.cli(['webhooks', 'deliveries', added.id])).stdout).toMatch(/webhook\.test .*204/);

    expect((await gh.cliJson(['webhooks', 'disable', added.id])).enabled).toBe(false);
    const listedDisabled = await gh.cli(['webhooks', 'list']);
    expect(listedDisabled.stdout).toContain('disabled: disabled by an operator');
    expect((await gh.cliJson(['webhooks', 'enable', added.id])).enabled).toBe(true);
    // the ping refused under the old secret is the one failed message: replay sends it again, now verified
    expect(await gh.cliJson(['webhooks', 'replay', added.id])).toEqual({ replayed: 1 });
    await rx.waitFor((a) => a.filter((m) => m.path === '/cli' && m.type === 'webhook.test').length === 3);

    expect(await gh.cliJson(['webhooks', 'remove', added.id])).toEqual({ deleted: added.id });
    const gone = await gh.cli(['webhooks', 'show', added.id]);
    expect(gone.code).toBe(4);

    // every change on the record, the operator as actor, and no secret anywhere in it
    await tokens();
    const mine = (await json(await fetch(`${gh.issuer}/api/admin/audit?limit=100`, { headers: { authorization: `Bearer ${adminToken}` } }))).body.events
      .filter((e: { type: string; data: { endpoint_id?: string } }) => e.type.startsWith('webhook.') && e.data.endpoint_id === added.id);
    expect(mine.map((e: { type: string }) => e.type).sort()).toEqual(['webhook.created', 'webhook.deleted', 'webhook.disabled', 'webhook.enabled', 'webhook.replayed', 'webhook.secret_rotated', 'webhook.updated']);
    expect(mine.every((e: { actor_id: string | null }) => e.actor_id === null)).toBe(true);
    expect(JSON.stringify(mine)).not.toMatch(/whsec_/);
    expect(await gh.settledLog()).not.toMatch(/whsec_/);
  });

  it('refuses bad input with a sentence and the right exit code', async () => {
    const unknown = await gh.cli(['webhooks', 'add', '--url', `${rx.origin}/x`, '--events', 'user.exploded']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown event type "user.exploded"/);
    const badUrl = await gh.cli(['webhooks', 'add', '--url', 'ftp://example.test/x', '--events', 'user.created']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/http or https/);
    const noWorkspace = await gh.cli(['webhooks', 'add', '--url', `${rx.origin}/x`, '--events', 'user.created', '--workspace', 'nowhere']);
    expect(noWorkspace.code).toBe(4);
    expect(noWorkspace.stderr).toMatch(/No workspace "nowhere"/);
    expect((await gh.cli(['webhooks', 'show', '00000000-0000-4000-8000-000000000000'])).code).toBe(4);
    expect((await gh.cli(['webhooks', 'update', '00000000-0000-4000-8000-000000000000'])).code).toBe(2);
    expect((await gh.cli(['webhooks', 'deliveries', '00000000-0000-4000-8000-000000000000', '--limit', '1000'])).code).toBe(2);
    expect((await gh.cli(['webhooks', 'replay', '00000000-0000-4000-8000-000000000000', '--since', 'yesterday'])).code).toBe(2);
    const events = await gh.cliJson(['webhooks', 'events']);
    expect(events.map((e: { type: string }) => e.type)).toEqual(WEBHOOK_EVENT_TYPES);
  });
});

describe('the admin API', () => {
  beforeAll(tokens);
  it('refuses no token, a non-admin, and unknown endpoints', async () => {
    expect((await api('', undefined)).status).toBe(401);
    const pleb = await json(await api('', plebToken));
    expect(pleb.status).toBe(403);
    expect(pleb.body.error).toBe('not_admin');
    expect((await json(await post('', { url: `${rx.origin}/x`, events: ['user.created'] }, plebToken))).status).toBe(403);
    for (const path of ['/00000000-0000-4000-8000-000000000000', '/not-a-uuid', '/00000000-0000-4000-8000-000000000000/deliveries']) {
      const r = await json(await api(path, adminToken));
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    expect((await api('/00000000-0000-4000-8000-000000000000', adminToken, { method: 'DELETE' })).status).toBe(404);
    expect((await post('/00000000-0000-4000-8000-000000000000/enable')).status).toBe(404);
  });

  it('validates input: 400 with a message that names the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ events: ['user.created'] }, /url/],
      [{ url: `${rx.origin}/x`, events: [] }, /at least one/],
      [{ url: `${rx.origin}/x`, events: ['nope'] }, /unknown event type "nope"/],
      [{ url: `${rx.origin}/x`, events: 'user.created' }, /events/],
      [{ url: 'javascript:alert(1)', events: ['user.created'] }, /http or https/],
      [{ url: `${rx.origin}/x#frag`, events: ['user.created'] }, /fragment/],
      [{ url: 'http://user:pw@127.0.0.1/x', events: ['user.created'] }, /password/],
      [{ url: `${rx.origin}/x`, events: ['user.created'], secret: 'whsec_mine' }, /unknown field secret/],
      [{ url: `${rx.origin}/x`, events: ['user.created'], description: 'x'.repeat(201) }, /description/],
    ];
    for (const [body, message] of cases) {
      const r = await json(await post('', body));
      expect([r.status, r.body.message]).toEqual([400, expect.stringMatching(message)]);
    }
    const notJson = await fetch(`${gh.issuer}/api/admin/webhooks`, { method: 'POST', body: 'url=x', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
    expect((await json(await post('/00000000-0000-4000-8000-000000000000/replay', { since: 'last week' }))).status).toBe(400);
    expect((await json(await api('/00000000-0000-4000-8000-000000000000/deliveries?limit=0', adminToken))).status).toBe(400);
  });

  it('creates, reads, changes, pings, pages the log, replays and deletes; audited with the admin as actor', async () => {
    const created = await json(await post('', { url: `${rx.origin}/api`, events: ['user.created'], workspace: 'acme' }));
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    const id = created.body.id;
    rx.secrets.set('/api', created.body.secret);
    const list = await json(await api('', adminToken));
    expect(list.body.endpoints.find((e: { id: string }) => e.id === id)).toEqual(expect.objectContaining({ url: `${rx.origin}/api`, workspace: expect.objectContaining({ slug: 'acme' }) }));
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(JSON.stringify((await json(await api(`/${id}`, adminToken))).body)).not.toContain('whsec_');

    const patched = await json(await api(`/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({ events: ['user.created', 'user.deleted'], workspace: null }) }));
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual(expect.objectContaining({ events: ['user.created', 'user.deleted'], workspace: null, workspace_id: null }));
    expect((await json(await api(`/${id}`, adminToken, { method: 'PATCH', body: JSON.stringify({}) }))).status).toBe(400);

    // a change the endpoint subscribes to arrives, signed
    const user = await gh.cliJson(['users', 'create', '--email', 'api-hook-target@example.test']);
    await rx.waitFor((a) => a.some((m) => m.path === '/api' && m.type === 'user.created' && m.data.user_id === user.id));
    // its attempt is logged once the receiver has answered
    for (const until = Date.now() + 5000; (await json(await api(`/${id}/deliveries`, adminToken))).body.total < 1 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));

    for (let i = 0; i < 2; i++) expect((await json(await post(`/${id}/test`))).body).toEqual(expect.objectContaining({ ok: true, status_code: 204, message_id: expect.stringMatching(/^msg_/) }));
    const page1 = await json(await api(`/${id}/deliveries?limit=2`, adminToken));
    expect(page1.body).toEqual(expect.objectContaining({ total: 3, limit: 2, offset: 0 }));
    expect(page1.body.deliveries.map((d: { event_type: string }) => d.event_type)).toEqual(['webhook.test', 'webhook.test']);
    const page2 = await json(await api(`/${id}/deliveries?limit=2&offset=2`, adminToken));
    expect(page2.body.deliveries).toEqual([expect.objectContaining({ event_type: 'user.created', status_code: 204, attempt: 1, latency_ms: expect.any(Number), message_status: 'delivered' })]);

    const rotated = await json(await post(`/${id}/rotate-secret`));
    expect(rotated.body).toEqual({ id, secret: expect.stringMatching(/^whsec_/) });
    expect((await json(await post(`/${id}/disable`))).body).toEqual(expect.objectContaining({ enabled: false, disabled_reason: expect.any(String) }));
    expect((await json(await post(`/${id}/enable`))).body).toEqual(expect.objectContaining({ enabled: true, disabled_reason: null }));
    expect((await json(await post(`/${id}/replay`, { since: new Date(Date.now() - 3600_000).toISOString() }))).body).toEqual({ replayed: 0 });
    expect((await json(await post(`/${id}/replay`))).body).toEqual({ replayed: 0 });
    expect((await api(`/${id}`, adminToken, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/${id}`, adminToken)).status).toBe(404);

    const events = (await json(await fetch(`${gh.issuer}/api/admin/audit?actor=${admin.id}&limit=100`, { headers: { authorization: `Bearer ${adminToken}` } }))).body.events
      .filter((e: { data: { endpoint_id?: string } }) => e.data.endpoint_id === id);
    expect(events.map((e: { type: string }) => e.type).sort()).toEqual(['webhook.created', 'webhook.deleted', 'webhook.disabled', 'webhook.enabled', 'webhook.replayed', 'webhook.replayed', 'webhook.secret_rotated', 'webhook.updated']);
    expect(JSON.stringify(events)).not.toMatch(/whsec_/);
  });

  it('is in the OpenAPI document, with a webhooks section for every event type', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as any;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/api/admin/webhooks', '/api/admin/webhooks/{id}', '/api/admin/webhooks/{id}/rotate-secret', '/api/admin/webhooks/{id}/enable', '/api/admin/webhooks/{id}/test', '/api/admin/webhooks/{id}/deliveries', '/api/admin/webhooks/{id}/replay']) {
      expect(doc.paths[path]).toBeDefined();
    }
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES, 'webhook.test'].sort());
    const created = doc.webhooks['user.created'].post;
    expect(created.parameters.map((p: { name: string }) => p.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    expect(created.requestBody.content['application/json'].schema.properties.type).toEqual({ const: 'user.created' });
    expect(Object.keys(created.requestBody.content['application/json'].schema.properties.data.properties)).toEqual(expect.arrayContaining(['user_id', 'source']));
  });
});

describe('the console', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await browser?.close(); });

  const open = async (): Promise<Page> => {
    const context = await newContext(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gh.issuer });
    const page = await context.newPage();
    await page.goto(`${gh.issuer}/admin/webhooks`);
    await signInAs(page, 'hooks-admin@example.test', PASSWORD);
    await page.waitForURL(`${gh.issuer}/admin/webhooks`);
    return page;
  };

  it('adds an endpoint (secret shown once, copied), tests it, edits it, shows the log, and deletes it after saying what happens', async () => {
    const page = await open();
    await page.getByRole('link', { name: 'Add endpoint' }).click();
    await page.getByRole('button', { name: 'Add endpoint' }).click(); // the browser's own check: the URL is required
    await expect(page.getByLabel('URL').evaluate((el: HTMLInputElement) => el.validity.valueMissing)).resolves.toBe(true);
    await page.getByLabel('URL').fill(`${rx.origin}/console`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/at least one event/);
    await page.getByLabel(/user\.created/).check();
    await page.getByLabel(/workspace\.member_added/).check();
    await page.getByLabel('Workspace (optional)').fill('no-such-team');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/No workspace "no-such-team"/);
    await expect(page.getByLabel('URL').inputValue()).resolves.toBe(`${rx.origin}/console`); // what was typed stays
    await screenshot(page, 'admin-webhook-form-error');
    await page.getByLabel('Workspace (optional)').fill('acme');
    await page.getByLabel('Description (optional)').fill('Billing service');
    await page.getByRole('button', { name: 'Add endpoint' }).click();

    const secret = await page.getByRole('textbox', { name: 'Secret', exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(page.url()).not.toContain('whsec_');
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await expect(page.getByText('Copied.').isVisible()).resolves.toBe(true);
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(secret);
    await screenshot(page, 'admin-webhook-created');
    rx.secrets.set('/console', secret);
    const id = new URL(await page.getByRole('link', { name: 'Edit' }).getAttribute('href') as string, gh.issuer).pathname.split('/')[3]!;

    // the secret is not on the page once it is left
    await page.goto(`${gh.issuer}/admin/webhooks/${id}`);
    await expect(page.getByRole('textbox', { name: 'Secret', exact: true }).count()).resolves.toBe(0);
    await expect(page.content()).resolves.not.toContain(secret);

    await page.getByRole('button', { name: 'Send test' }).click();
    await expect(page.getByText(/Test ping delivered: HTTP 204/).isVisible()).resolves.toBe(true);
    await rx.waitFor((a) => a.some((m) => m.path === '/console' && m.type === 'webhook.test'));
    await expect(page.getByRole('table').getByText('webhook.test').isVisible()).resolves.toBe(true);

    await page.getByRole('link', { name: 'Edit' }).click();
    await expect(page.getByLabel(/user\.created/).isChecked()).resolves.toBe(true);
    await page.getByLabel(/user\.deleted/).check();
    await page.getByLabel('Description (optional)').fill('Billing service (EU)');
    await screenshot(page, 'admin-webhook-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByText('Endpoint saved.').isVisible()).resolves.toBe(true);
    await expect(page.getByText('user.created, user.deleted, workspace.member_added').isVisible()).resolves.toBe(true);

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.getByRole('textbox', { name: 'Secret', exact: true }).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await expect(page.getByText('The old secret no longer signs.').isVisible()).resolves.toBe(true);
    rx.secrets.set('/console', rotated);

    await page.getByRole('link', { name: 'Webhooks' }).click();
    await expect(page.getByRole('link', { name: `${rx.origin}/console` }).isVisible()).resolves.toBe(true);
    await expect(page.content()).resolves.not.toContain('whsec_');
    await screenshot(page, 'admin-webhooks');

    await page.goto(`${gh.issuer}/admin/webhooks/${id}`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await expect(page.getByText('Nothing more is sent to it').isVisible()).resolves.toBe(true);
    await expect(page.getByText('This cannot be undone').isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-webhook-delete');
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await expect(page.getByText('Endpoint deleted.').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: `${rx.origin}/console` }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('shows a failing endpoint disabled with the reason, re-enables it and replays what failed', async () => {
    rx.status.set('/down', 500);
    const added = await gh.cliJson(['webhooks', 'add', '--url', `${rx.origin}/down`, '--events', 'user.created']);
    rx.secrets.set('/down', added.secret);
    const user = await gh.cliJson(['users', 'create', '--email', 'while-down@example.test']);
    // retried every second, disabled once it has failed for 2 s
    const until = Date.now() + 20_000;
    let shown = await gh.cliJson(['webhooks', 'show', added.id]);
    while (shown.enabled && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      shown = await gh.cliJson(['webhooks', 'show', added.id]);
    }
    expect(shown.enabled).toBe(false);
    expect(shown.disabled_reason).toBeTruthy();

    const page = await open();
    await expect(page.getByText('Disabled').first().isVisible()).resolves.toBe(true);
    await expect(page.getByText(shown.disabled_reason).first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-webhooks-disabled');
    await page.getByRole('link', { name: `${rx.origin}/down` }).click();
    await expect(page.getByRole('table').getByText('500').first().isVisible()).resolves.toBe(true);
    await screenshot(page, 'admin-webhook-log');

    rx.status.set('/down', 204);
    await page.getByRole('button', { name: 'Re-enable' }).click();
    await expect(page.getByText('Endpoint enabled').isVisible()).resolves.toBe(true);
    // a message still pending resumes; one given up is sent again by replay
    await page.getByRole('button', { name: 'Replay failed' }).click();
    await expect(page.getByText(/queued again|No failed messages/).first().isVisible()).resolves.toBe(true);
    await rx.waitFor((a) => a.some((m) => m.path === '/down' && m.type === 'user.created' && m.data.user_id === user.id));
    await page.context().close();
  });
});
