// The admin API's bulk import and export (issue 15): the same options and report as the CLI, for an
// admin with the admin scope only; JSON Lines, a JSON array or CSV; export with hashes audited.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';
import { legacyHashes } from '../support/legacy-hashes.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'admin api pass phrase 1';
let gh: TestServer;
let adminToken: string;
let plebToken: string;
let bcrypt: string;

const api = (path: string, token: string, init: RequestInit & { type?: string } = {}) => fetch(`${gh.issuer}/api/admin${path}`, {
  ...init, headers: { authorization: `Bearer ${token}`, ...(init.type ? { 'content-type': init.type } : {}) },
});

beforeAll(async () => {
  gh = await startServer();
  const console_ = await gh.cliJson(['clients', 'create', '--name', 'Ops console', '--redirect-uri', REDIRECT, '--scopes', 'openid admin']);
  await gh.cliJson(['users', 'create', '--email', 'boss@example.test', '--password', PASSWORD, '--admin']);
  await gh.cliJson(['users', 'create', '--email', 'pleb@example.test', '--password', PASSWORD]);
  const cfg = await discover({ issuer: gh.issuer, clientId: console_.client_id, clientSecret: console_.client_secret, redirectUri: REDIRECT });
  const tokenFor = async (email: string) => (await signIn(cfg, { issuer: gh.issuer, clientId: console_.client_id, clientSecret: console_.client_secret, redirectUri: REDIRECT, email, password: PASSWORD, scope: 'openid admin' })).tokens.access_token;
  adminToken = await tokenFor('boss@example.test');
  plebToken = await tokenFor('pleb@example.test');
  [bcrypt] = legacyHashes([['bcrypt-2b', 'imported password 1']]);
}, 120_000);
afterAll(async () => { await gh?.destroy(); });

describe('POST /api/admin/users/import', () => {
  it('imports JSON Lines, then reports the same body as skipped; a dry run writes nothing', async () => {
    const id = randomUUID();
    const body = [JSON.stringify({ id, email: 'api1@example.test', password_hash: bcrypt, workspaces: [{ slug: 'api-ws', name: 'API' }] }), '{oops', JSON.stringify({ email: 'api2@example.test' })].join('\n');
    const dry = await api('/users/import?dry_run=true', adminToken, { method: 'POST', body, type: 'application/x-ndjson' });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ dry_run: true, created: 2, failed: 1, failures: [{ line: 2 }] });
    const r = await api('/users/import', adminToken, { method: 'POST', body, type: 'application/x-ndjson' });
    expect(await r.json()).toMatchObject({ dry_run: false, created: 2, failed: 1, workspaces_created: 1 });
    expect(await (await api('/users/import', adminToken, { method: 'POST', body, type: 'application/x-ndjson' })).json()).toMatchObject({ created: 0, skipped: 2 });
    const user = await (await api(`/users/${id}`, adminToken)).json() as { email: string };
    expect(user.email).toBe('api1@example.test');
    const audit = await (await api(`/audit?type=user.created&subject=${id}`, adminToken)).json() as { events: Array<{ actor_id: string; data: unknown }> };
    expect(audit.events[0]).toMatchObject({ data: { source: 'import' } });
    expect(audit.events[0]!.actor_id).toBeTruthy(); // the admin who imported
  });

  it('takes a JSON array and CSV with the same options (update, atomic)', async () => {
    const array = await api('/users/import?update=true', adminToken, { method: 'POST', body: JSON.stringify([{ email: 'api1@example.test', name: 'Renamed' }]), type: 'application/json' });
    expect(await array.json()).toMatchObject({ updated: 1 });
    const csv = 'email,name,roles,workspaces\ncsv1@example.test,"Smith, Jo","a,b","[{""slug"":""api-ws"",""role"":""admin""}]"\ncsv2@example.test,,bad role!,\n';
    const atomic = await api('/users/import?atomic=true', adminToken, { method: 'POST', body: csv, type: 'text/csv' });
    expect(await atomic.json()).toMatchObject({ atomic: true, created: 0, failed: 1, failures: [{ line: 3 }] });
    const fixed = await api('/users/import', adminToken, { method: 'POST', body: csv.replace('bad role!', 'c'), type: 'text/csv' });
    expect(await fixed.json()).toMatchObject({ created: 2, failed: 0 });
  });

  it('refuses non-admins, other media types, unknown options and unreadable files with a clear 4xx', async () => {
    const body = JSON.stringify({ email: 'x@example.test' });
    const pleb = await api('/users/import', plebToken, { method: 'POST', body, type: 'application/x-ndjson' });
    expect(pleb.status).toBe(403);
    const xml = await api('/users/import', adminToken, { method: 'POST', body: '<users/>', type: 'application/xml' });
    expect(xml.status).toBe(415);
    const option = await api('/users/import?force=1', adminToken, { method: 'POST', body, type: 'application/x-ndjson' });
    expect(option.status).toBe(400);
    const column = await api('/users/import', adminToken, { method: 'POST', body: 'email,pasword\na@example.test,x\n', type: 'text/csv' });
    expect(column.status).toBe(400);
    expect(((await column.json()) as { message: string }).message).toContain('Unknown CSV column "pasword"');
  });
});

describe('GET /api/admin/users/export', () => {
  it('writes the import format; hashes only when asked, and that is audited', async () => {
    const plain = await api('/users/export', adminToken);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toContain('application/x-ndjson');
    const text = await plain.text();
    expect(text).toContain('"email":"api1@example.test"');
    expect(text).not.toContain('password_hash');
    const full = await (await api('/users/export?with_password_hashes=true', adminToken)).text();
    expect(full).toContain(bcrypt);
    const csv = await api('/users/export?format=csv', adminToken);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n')[0]).toBe('id,email,email_verified,name,given_name,family_name,picture,locale,created_at,disabled,password_hash,roles,workspaces,identities,totp_secret');
    const audit = await (await api('/audit?type=users.exported', adminToken)).json() as { events: Array<{ data: { with_password_hashes: boolean } }> };
    expect(audit.events.map((e) => e.data.with_password_hashes).sort()).toEqual([false, false, true]);
  });
});
