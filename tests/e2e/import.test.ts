// Issue 15, "done when": a file of users with every supported password-hash format (each made by an
// independent implementation: tests/support/legacy-hashes.ts) is imported with the CLI; each user
// signs in through the hosted pages in Chromium with their old password, openid-client as the app;
// the hash is then argon2id, the id is the token's sub, workspaces and roles are in the tokens. A
// second import changes nothing; a broken file yields a precise report; export → import into a
// fresh deployment is lossless.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server.ts';
import { discover } from '../../harness/http-agent.ts';
import { launchBrowser, newContext, screenshot, startRelyingParty, type RelyingParty } from '../support/browser.ts';
import { LEGACY_FORMATS, legacyHashes } from '../support/legacy-hashes.ts';

const UNSALTED = new Set(['md5', 'sha1', 'sha256']);
const NEW_PASSWORD = 'a brand new passphrase 2026';
let gh: TestServer;
let rp: RelyingParty;
let browser: Browser;
let REDIRECT: string;
let config: oidc.Configuration;
const contexts: BrowserContext[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gh-import-'));
const users = LEGACY_FORMATS.map((format, i) => ({
  format, id: randomUUID(), email: `${format}@import.example`, password: `old password ${i} for ${format} ✓`,
}));
let file: string;

async function sql<T = any>(server: TestServer, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.env.DATABASE_URL });
  await client.connect();
  try { return (await client.query(text, values)).rows as T[]; } finally { await client.end(); }
}
/** The upstream provider the identities name, registered as an operator does (not offered on the sign-in page). */
async function registerGoogle(server: TestServer) {
  const r = await server.cli(['providers', 'add', '--name', 'google', '--preset', 'google', '--client-id', 'gatehouse-test', '--client-secret-stdin', '--enabled', 'false', '--json'], { input: 'not-a-real-secret\n' });
  if (r.code !== 0) throw new Error(`providers add: ${r.stderr}`);
}

beforeAll(async () => {
  [gh, browser, rp] = await Promise.all([startServer(), launchBrowser(), startRelyingParty()]);
  REDIRECT = `${rp.origin}/cb`;
  const web = await gh.cliJson(['clients', 'create', '--name', 'Moved App', '--redirect-uri', REDIRECT, '--scopes', 'openid profile email workspace workspaces roles']);
  config = await discover({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });
  await registerGoogle(gh);
  const hashes = legacyHashes(users.map((u) => [u.format, u.password] as const));
  const lines = users.map((u, i) => JSON.stringify({
    id: u.id, email: u.email, email_verified: true, name: `User ${u.format}`, created_at: '2020-01-02T03:04:05.000Z',
    password_hash: hashes[i], roles: i % 2 ? ['admin-lite'] : [], workspaces: [{ slug: `ws-${i % 3}`, name: `Workspace ${i % 3}`, role: i < 3 ? 'owner' : 'member' }],
    ...(i === 0 ? { identities: [{ provider: 'google', subject: '1000001' }] } : {}),
  }));
  file = join(dir, 'users.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
}, 120_000);
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await rp?.close();
  await gh?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function fresh(): Promise<Page> {
  const context = await newContext(browser);
  contexts.push(context);
  return context.newPage();
}

async function signInThroughPages(user: (typeof users)[number]) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid profile email workspace workspaces roles', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const page = await fresh();
  await page.goto(url.href);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in' }).click()]);
  if (UNSALTED.has(user.format)) {
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    if (user.format === 'md5') {
      await screenshot(page, 'import-new-password');
      // the old password again is refused, with a way forward
      await page.getByLabel('New password', { exact: true }).fill(user.password);
      await page.getByLabel('New password again').fill(user.password);
      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Save and continue' }).click()]);
      expect(await page.getByRole('alert').textContent()).toContain('different from your old one');
    }
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Save and continue' }).click()]);
  }
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  await Promise.all([page.waitForURL(`${rp.origin}/**`), page.getByRole('button', { name: 'Allow' }).click()]);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  await page.close();
  return tokens;
}

const runImport = async (server: TestServer, path: string, ...flags: string[]) => {
  const r = await server.cli(['users', 'import', path, '--json', ...flags]);
  return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
};

describe('moving users in', () => {
  it('refuses unsalted hashes without the flag; with it, imports every format', async () => {
    const refused = await runImport(gh, file, '--dry-run');
    expect(refused.code).toBe(1);
    expect(refused.report).toMatchObject({ dry_run: true, created: users.length - 3, failed: 3 });
    expect(refused.report.failures.map((f: { email: string }) => f.email).sort()).toEqual(['md5@import.example', 'sha1@import.example', 'sha256@import.example']);
    expect(await sql(gh, 'select count(*)::int as n from users')).toEqual([{ n: 0 }]);

    const done = await runImport(gh, file, '--allow-unsalted-hashes');
    expect(done.code).toBe(0);
    expect(done.report).toMatchObject({ total: users.length, created: users.length, failed: 0, workspaces_created: 3 });
    expect(done.stderr).toBe(''); // no progress bar when not on a terminal
  }, 120_000);

  it('each user signs in with the old password through the hosted pages; the hash becomes argon2id; sub, workspaces and roles in the tokens', async () => {
    for (const [i, user] of users.entries()) {
      const tokens = await signInThroughPages(user);
      const claims = tokens.claims()!;
      expect({ format: user.format, sub: claims.sub }).toEqual({ format: user.format, sub: user.id });
      expect(claims).toMatchObject({ email: user.email, email_verified: true, workspace_slug: `ws-${i % 3}`, workspace_role: i < 3 ? 'owner' : 'member' });
      const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
      expect(info.roles).toEqual(i % 2 ? ['admin-lite'] : []);
      const [row] = await sql(gh, 'select password_hash, password_change_required from users where id = $1', [user.id]);
      expect({ format: user.format, hash: row.password_hash.slice(0, 16), change: row.password_change_required })
        .toEqual({ format: user.format, hash: '$argon2id$v=19$m', change: false });
    }
    // the unsalted users' passwords are the new ones now
    const [md5] = await sql(gh, 'select id from users where email = $1', ['md5@import.example']);
    expect(md5.id).toBe(users.find((u) => u.format === 'md5')!.id);
    const events = await sql(gh, "select count(*)::int as n from audit_events where type = 'password.changed' and data->>'required' = 'true'");
    expect(events).toEqual([{ n: 3 }]);
  }, 600_000);

  it('a second import of the same file changes nothing', async () => {
    const before = await sql(gh, 'select id, password_hash, updated_at from users order by id');
    const again = await runImport(gh, file, '--allow-unsalted-hashes');
    expect(again.report).toMatchObject({ created: 0, updated: 0, skipped: users.length, failed: 0 });
    const updated = await runImport(gh, file, '--allow-unsalted-hashes', '--update');
    expect(updated.report).toMatchObject({ created: 0, updated: 0, skipped: users.length, failed: 0 });
    expect(await sql(gh, 'select id, password_hash, updated_at from users order by id')).toEqual(before);
  }, 120_000);

  it('a broken file yields a precise report, and the good records still go in', async () => {
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, [
      JSON.stringify({ email: 'fine@import.example' }),
      JSON.stringify({ email: 'fine2@import.example', password: 'plaintext' }),
      '{"email": ',
      JSON.stringify({ email: 'dup@import.example' }),
      JSON.stringify({ email: 'DUP@import.example' }),
      JSON.stringify({ email: 'who@import.example', identities: [{ provider: 'okta', subject: 'x' }] }),
    ].join('\n'));
    const r = await runImport(gh, broken);
    expect(r.code).toBe(1);
    expect(r.report).toMatchObject({ created: 2, failed: 4 });
    expect(r.report.failures).toEqual([
      { line: 2, email: 'fine2@import.example', reason: 'unknown field "password"' },
      { line: 3, reason: 'not valid JSON (each line must be one JSON object)' },
      { line: 5, email: 'DUP@import.example', reason: 'email: the same email as the record at line 4' },
      { line: 6, email: 'who@import.example', reason: 'identities: no upstream provider named "okta": register it first (gatehouse providers add)' },
    ]);
    const human = await gh.cli(['users', 'import', broken]);
    expect(human.stdout).toContain('line 2 (fine2@import.example): unknown field "password"');
  }, 120_000);

  it('export → import into a fresh deployment is lossless', async () => {
    const plain = await gh.cli(['users', 'export']);
    expect(plain.stdout).not.toContain('password_hash');
    const out = join(dir, 'export.jsonl');
    const exported = await gh.cli(['users', 'export', '--with-password-hashes', '--output', out]);
    expect(exported.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    const audit = await sql(gh, "select data from audit_events where type = 'users.exported' order by id");
    expect(audit.map((a) => a.data.with_password_hashes)).toEqual([false, true]);

    const other = await startServer();
    try {
      await registerGoogle(other);
      const r = await runImport(other, out);
      expect(r.report).toMatchObject({ failed: 0, created: text.trim().split('\n').length });
      const back = await other.cli(['users', 'export', '--with-password-hashes']);
      expect(back.stdout).toBe(text);
      const record = JSON.parse(text.split('\n').find((l) => l.includes('"argon2id@import.example"'))!);
      expect(record).toMatchObject({ id: users[0]!.id, created_at: '2020-01-02T03:04:05.000Z', identities: [{ provider: 'google', subject: '1000001' }] });
    } finally { await other.destroy(); }
  }, 240_000);
});
