// The embedded default: no DATABASE_URL, no REDIS_URL — PGlite in the data folder holds everything,
// survives restarts, and the CLI works whether or not the server is running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'an embedded pass phrase';
let gh: TestServer;
let clientsFile: string;

beforeAll(async () => {
  gh = await startServer({ embedded: true, noWait: true, env: {
    GATEHOUSE_ADMIN_EMAIL: 'root@example.test', GATEHOUSE_ADMIN_PASSWORD: 'admin pass phrase 123',
    FILE_APP_SECRET: 'file-app-secret-0123456789abcdefghijklmnop',
  } });
  clientsFile = join(gh.dataDir, 'clients.yaml');
  writeFileSync(clientsFile, [
    'clients:',
    '  - client_id: file-app',
    '    client_secret: ${FILE_APP_SECRET}',
    '    name: File App',
    '    redirect_uris: [http://127.0.0.1:7999/cb]',
    '    scopes: [openid, email, offline_access]',
  ].join('\n'));
  gh.env.GATEHOUSE_CLIENTS_FILE = clientsFile;
  await gh.restart();
});
afterAll(async () => { await gh?.destroy(); });

describe('embedded default', () => {
  it('serves discovery and reports ready without Postgres or Redis', async () => {
    const ready = await (await fetch(`${gh.issuer}/readyz`)).json() as { checks: Record<string, string> };
    expect(ready.checks.database).toBe('ok');
  });

  it('runs operator commands through the running server, then directly when it is stopped', async () => {
    const client = await gh.cliJson(['clients', 'create', '--name', 'Embedded App', '--redirect-uri', REDIRECT]);
    expect(client.client_secret).toBeTruthy();
    const user = await gh.cliJson(['users', 'create', '--email', 'emb@example.test', '--password', PASSWORD]);
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
    const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'emb@example.test', password: PASSWORD });
    const kidsBefore = (await (await fetch(`${gh.issuer}/jwks`)).json() as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();

    await gh.stop();
    const listed = await gh.cliJson(['clients', 'list']) as Array<{ client_id: string }>;
    expect(listed.map((c) => c.client_id)).toContain(client.client_id);
    const doomed = await gh.cliJson(['clients', 'create', '--name', 'Doomed', '--redirect-uri', REDIRECT]);
    expect((await gh.cli(['clients', 'delete', doomed.client_id])).code).toBe(0);
    expect((await gh.cli(['clients', 'show', doomed.client_id])).code).toBe(4);
    const dup = await gh.cli(['users', 'create', '--email', 'EMB@example.test', '--password', PASSWORD, '--json']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/already exists/);

    await gh.restart();
    // nothing lost: keys, clients, accounts and the provider's records (the refresh token) survive
    const kidsAfter = (await (await fetch(`${gh.issuer}/jwks`)).json() as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();
    expect(kidsAfter).toEqual(kidsBefore);
    const refreshed = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    });
    expect(refreshed.status).toBe(200);
  });

  it('applies the clients file idempotently and creates the first admin once', async () => {
    await gh.restart();
    const clients = await gh.cliJson(['clients', 'list']) as Array<{ client_id: string }>;
    expect(clients.filter((c) => c.client_id === 'file-app')).toHaveLength(1);
    const users = await gh.cliJson(['users', 'list']) as Array<{ email: string; roles: string[] }>;
    const admins = users.filter((u) => u.email === 'root@example.test');
    expect(admins).toHaveLength(1);
    expect(admins[0]!.roles).toContain('admin');
    const cfg = await discover({ issuer: gh.issuer, clientId: 'file-app', clientSecret: 'file-app-secret-0123456789abcdefghijklmnop', redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer: gh.issuer, clientId: 'file-app', clientSecret: 'file-app-secret-0123456789abcdefghijklmnop', redirectUri: REDIRECT, email: 'root@example.test', password: 'admin pass phrase 123', scope: 'openid email offline_access' });
    expect(tokens.claims()!.email).toBe('root@example.test');
  });

  it('rotates keys through the running server: published at once, signing after the delay or with --now', async () => {
    const jwks = async () => (await (await fetch(`${gh.issuer}/jwks`)).json() as { keys: Array<{ kid: string; alg: string }> }).keys.map((k) => k.kid);
    const before = await jwks();
    const delayed = await gh.cliJson(['keys', 'rotate']) as { rotated: string[]; activatesAt: string };
    expect(new Date(delayed.activatesAt).getTime()).toBeGreaterThan(Date.now());
    const published = await jwks();
    for (const k of [...before, ...delayed.rotated]) expect(published).toContain(k);
    let listed = await gh.cliJson(['keys', 'list']) as Array<{ kid: string; status: string }>;
    expect(listed.filter((k) => k.status === 'pending').map((k) => k.kid).sort()).toEqual([...delayed.rotated].sort());

    const now = await gh.cliJson(['keys', 'rotate', '--now']) as { rotated: string[] };
    const after = await jwks();
    for (const k of [...before, ...now.rotated]) expect(after).toContain(k);
    listed = await gh.cliJson(['keys', 'list']) as Array<{ kid: string; status: string }>;
    expect(listed.filter((k) => k.status === 'active').map((k) => k.kid).sort()).toEqual([...now.rotated].sort());
    const table = await gh.cli(['keys', 'list']);
    expect(table.stdout).toMatch(/^KID\s+ALG\s+STATUS\s+CREATED\s+ACTIVATES\s+RETIRES\s+EXPIRES/);
  });
});

describe('production mode', () => {
  it('times device polls in its own store: authorization_pending, then slow_down with a longer interval', async () => {
    const device = await gh.cliJson(['clients', 'create', '--name', 'Embedded CLI', '--public', '--grant-types', 'device_code,refresh_token']);
    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const auth = await (await fetch(`${gh.issuer}/device/auth`, form({ client_id: device.client_id, scope: 'openid' }))).json() as { device_code: string; interval: number };
    expect(auth.interval).toBe(5);
    const poll = async () => {
      const res = await fetch(`${gh.issuer}/token`, form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: auth.device_code, client_id: device.client_id }));
      return { status: res.status, body: await res.json() as { error: string; error_description: string } };
    };
    expect(await poll()).toEqual({ status: 400, body: expect.objectContaining({ error: 'authorization_pending' }) });
    const fast = await poll();
    expect(fast).toEqual({ status: 400, body: expect.objectContaining({ error: 'slow_down' }) });
    expect(fast.body.error_description).toMatch(/at least 10 seconds/);
    expect((await poll()).body.error_description).toMatch(/at least 15 seconds/);
  });

  it('refuses to start without GATEHOUSE_SECRET or on a plain-http public issuer', async () => {
    const refusals: Array<Record<string, string>> = [
      { NODE_ENV: 'production', GATEHOUSE_SECRET: '' },
      { NODE_ENV: 'production', GATEHOUSE_ISSUER: 'http://id.example.com' },
    ];
    for (const env of refusals) {
      const bad = await startServer({ embedded: true, noWait: true, env });
      expect(await bad.exited()).not.toBe(0);
      expect(bad.log()).toMatch(/GATEHOUSE_SECRET|https/);
      await bad.destroy();
    }
  });
});
