// Import and export of users (issue 15) on real Postgres, through the root's services as the CLI and
// the admin API use them. Password hashes come from Debian's Python (tests/support/legacy-hashes.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import { postgresRoot, type Root } from '../support/root.ts';
import { requireReal } from '../support/env.ts';
import { legacyHashes } from '../support/legacy-hashes.ts';
import { parseRecords } from '../../src/transfer/parse.ts';
import type { ImportOptions } from '../../src/transfer/import.service.ts';

requireReal();

type Store = Awaited<ReturnType<typeof postgresRoot>>;
let store: Store;
let c: Root;
const PASSWORD = 'an old password, 2019';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const ids = { ada: randomUUID(), bob: randomUUID(), cy: randomUUID(), dee: randomUUID() };
let hashes: Record<string, string>;

const jsonl = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n');
const importText = (root: Root, text: string, opts: ImportOptions = {}) => root.userImport.importRecords(parseRecords(text, 'jsonl'), opts);
const exportText = async (root: Root, opts: Parameters<Root['userExport']['lines']>[0] = {}) => {
  let out = '';
  for await (const line of root.userExport.lines(opts)) out += line;
  return out;
};
async function registerProvider(root: Root, name: string) {
  await root.providerRepo.insert({
    id: randomUUID(), name, display_name: name, kind: 'oidc', issuer: `https://${name}.example.com`, client_id: 'gatehouse',
    client_secret_encrypted: null, private_key_encrypted: null, settings: {}, enabled: true, source: 'cli',
  });
}

function file() {
  return [
    { id: ids.ada, email: 'Ada@Example.com', email_verified: true, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace',
      picture: 'https://example.com/ada.png', locale: 'en-GB', created_at: '2019-03-04T05:06:07.000Z', password_hash: hashes.argon2id,
      roles: ['admin'], workspaces: [{ slug: 'acme', name: 'Acme', role: 'owner' }], identities: [{ provider: 'google', subject: '1234' }],
      totp_secret: TOTP_SECRET },
    { id: ids.bob, email: 'bob@example.com', password_hash: hashes['bcrypt-2b'], workspaces: [{ slug: 'acme', role: 'member' }] },
    { id: ids.cy, email: 'cy@example.com', password_hash: hashes['django-pbkdf2_sha256'], disabled: true },
    { id: ids.dee, email: 'dee@example.com', password_hash: JSON.parse(hashes['keycloak-pbkdf2-sha512']!) },
  ];
}

beforeAll(async () => {
  const made = legacyHashes([['argon2id', PASSWORD], ['bcrypt-2b', PASSWORD], ['django-pbkdf2_sha256', PASSWORD], ['keycloak-pbkdf2-sha512', PASSWORD], ['md5', PASSWORD], ['passlib-scrypt', PASSWORD]]);
  hashes = { argon2id: made[0]!, 'bcrypt-2b': made[1]!, 'django-pbkdf2_sha256': made[2]!, 'keycloak-pbkdf2-sha512': made[3]!, md5: made[4]!, scrypt: made[5]! };
  store = await postgresRoot();
  c = store.root;
  await registerProvider(c, 'google');
});
afterAll(async () => { await store?.dispose(); });

describe('users import', () => {
  it('creates users with their ids, flags, roles, workspaces, identities and TOTP; no hashing at import', async () => {
    const report = await importText(c, jsonl(file()));
    expect(report).toMatchObject({ total: 4, created: 4, updated: 0, skipped: 0, failed: 0, workspaces_created: 1, failures: [] });
    const ada = (await c.accounts.findById(ids.ada))!;
    expect(ada).toMatchObject({ email: 'Ada@Example.com', email_normalized: 'ada@example.com', email_verified: true, roles: ['admin'], locale: 'en-GB', password_change_required: false });
    expect(ada.password_hash).toBe(hashes.argon2id); // verbatim
    expect(new Date(ada.created_at).toISOString()).toBe('2019-03-04T05:06:07.000Z');
    expect((await c.accounts.findById(ids.cy))!.disabled_at).not.toBeNull();
    const { memberships } = await c.workspaceRepo.membershipsOf(ids.ada);
    expect(memberships.map((m) => [m.slug, m.name, m.role])).toEqual([['acme', 'Acme', 'owner']]);
    expect((await c.workspaceRepo.membershipsOf(ids.bob)).memberships.map((m) => [m.slug, m.role])).toEqual([['acme', 'member']]);
    expect((await c.identityRepo.findByProviderSubject('google', '1234'))?.user_id).toBe(ids.ada);
    // the TOTP secret is sealed like an enrolled one and works at once
    const row = await c.mfaRepos.totp.find(ids.ada);
    expect(row?.secret_encrypted).not.toContain(TOTP_SECRET);
    expect(await c.mfa.factors(ids.ada)).toMatchObject({ totp: true });
    expect(await c.mfa.totp.check(ids.ada, await generate({ secret: TOTP_SECRET }))).toBe(true);
    const events = await store.db.knex('audit_events').where({ type: 'user.created' }).whereIn('subject_id', Object.values(ids));
    expect(events).toHaveLength(4);
    expect(events.every((e: { data: { source: string } }) => e.data.source === 'import')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('$argon2id'); // no hash in the audit trail
  });

  it('signs in with the old password, upgrading the hash to argon2id in the same step', async () => {
    for (const [id, email] of [[ids.ada, 'ada@example.com'], [ids.bob, 'BOB@example.com'], [ids.dee, 'dee@example.com']] as const) {
      expect(await c.accounts.authenticate(email, 'wrong password')).toBeUndefined();
      expect((await c.accounts.authenticate(email, PASSWORD))?.id).toBe(id);
      const after = (await c.accounts.findById(id))!;
      expect(after.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,/);
      expect((await c.accounts.authenticate(email, PASSWORD))?.id).toBe(id); // and again, with the new hash
    }
    expect(await c.accounts.authenticate('cy@example.com', PASSWORD)).toBeUndefined(); // disabled stays disabled
  });

  it('the same file again changes nothing: every record skipped', async () => {
    const before = await store.db.knex('audit_events').count({ n: '*' }).first();
    const report = await importText(c, jsonl(file()));
    expect(report).toMatchObject({ created: 0, updated: 0, skipped: 4, failed: 0, workspaces_created: 0 });
    const again = await importText(c, jsonl(file()), { update: true });
    // with --update: only what differs. Hashes upgraded at sign-in are never put back.
    expect(again).toMatchObject({ created: 0, updated: 0, skipped: 4, failed: 0 });
    expect(await store.db.knex('audit_events').count({ n: '*' }).first()).toEqual(before);
    expect((await c.accounts.findById(ids.ada))!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456/);
  });

  it('--update changes only what differs, and says which fields', async () => {
    const records = file();
    records[1] = { ...records[1]!, name: 'Bob Builder', roles: ['support'], workspaces: [{ slug: 'acme', role: 'admin' }] } as never;
    const report = await importText(c, jsonl(records), { update: true });
    expect(report).toMatchObject({ updated: 1, skipped: 3, failed: 0 });
    const bob = (await c.accounts.findById(ids.bob))!;
    expect(bob).toMatchObject({ name: 'Bob Builder', roles: ['support'] });
    expect((await c.workspaceRepo.membershipsOf(ids.bob)).memberships.map((m) => m.role)).toEqual(['admin']);
    const event = await store.db.knex('audit_events').where({ type: 'user.updated', subject_id: ids.bob }).first();
    expect(event.data).toEqual({ fields: ['name', 'roles', 'workspaces'], source: 'import', roles: { from: [], to: ['support'] } });
    // the membership the update added is on the record like one made by hand
    expect(await store.db.knex('audit_events').where({ type: 'workspace.member_role_changed', subject_id: ids.bob }).orWhere({ type: 'workspace.member_added', subject_id: ids.bob }).count({ n: '*' }).first()).not.toEqual({ n: '0' });
    // by email when the record has no id
    const byEmail = await importText(c, jsonl([{ email: 'cy@example.com', name: 'Cy' }]), { update: true });
    expect(byEmail).toMatchObject({ updated: 1 });
    expect((await c.accounts.findById(ids.cy))!.name).toBe('Cy');
  });

  it('a broken file: every bad record fails alone with its line and a precise reason; the rest are imported', async () => {
    const text = [
      JSON.stringify({ email: 'ok1@example.com', password_hash: hashes['bcrypt-2b'] }),
      '{"email": "broken@example.com",',
      JSON.stringify({ email: 'typo@example.com', email_verifed: true }),
      '',
      JSON.stringify({ email: 'not-an-email' }),
      JSON.stringify({ email: 'weird@example.com', password_hash: '$1$abc$defghijklmnopqrstuvwxyz' }),
      JSON.stringify({ email: 'md5@example.com', password_hash: hashes.md5 }),
      JSON.stringify({ email: 'OK1@example.com' }),
      JSON.stringify({ email: 'gh@example.com', identities: [{ provider: 'github', subject: '1' }] }),
      JSON.stringify({ id: ids.ada, email: 'someone-else@example.com' }),
      JSON.stringify({ id: randomUUID(), email: 'ada@example.com' }),
      JSON.stringify({ email: 'ws@example.com', workspaces: [{ slug: 'Not A Slug!' }] }),
      JSON.stringify({ email: 'stolen@example.com', identities: [{ provider: 'google', subject: '1234' }] }),
      JSON.stringify({ email: 'ok2@example.com', password_hash: hashes.scrypt, roles: ['member'] }),
      JSON.stringify({ email: 'nul@example.com', password_hash: `${hashes['bcrypt-2b']}\u0000` }),
    ].join('\n');
    const report = await importText(c, text);
    expect(report).toMatchObject({ total: 14, created: 2, skipped: 1, failed: 11 });
    const reasons = Object.fromEntries(report.failures.map((f) => [f.line, f.reason]));
    expect(reasons).toEqual({
      2: 'not valid JSON (each line must be one JSON object)',
      3: 'unknown field "email_verifed"',
      5: 'email: Enter a valid email address.',
      6: expect.stringMatching(/^password_hash: not a supported format/),
      7: expect.stringMatching(/^password_hash: an unsalted MD5 hash is refused; import with --allow-unsalted-hashes/),
      8: 'email: the same email as the record at line 1',
      9: 'identities: no upstream provider named "github": register it first (gatehouse providers add)',
      11: expect.stringMatching(/^email: already the email of another account/),
      12: expect.stringMatching(/^workspaces\.0\.slug: slug: a slug is 2–63/),
      13: 'identities: google 1234 is linked to another account',
      15: 'contains a NUL character (U+0000), which no field may hold',
    });
    expect(JSON.stringify(report)).not.toContain(hashes.md5); // never echoes a hash
    expect(await c.accounts.findByEmail('ok2@example.com')).toBeDefined();
    expect(report.skipped).toBe(1); // line 10: ada's id exists, and without --update it is skipped
  });

  it('--atomic: one bad record and nothing is written; --dry-run: reports, writes nothing', async () => {
    const text = jsonl([{ email: 'atomic1@example.com', workspaces: [{ slug: 'atomic-ws' }] }, { email: 'atomic2@example.com', roles: ['Not Valid'] }]);
    const atomic = await importText(c, text, { atomic: true });
    expect(atomic).toMatchObject({ created: 0, failed: 1, failures: [{ line: 2 }] });
    expect(await c.accounts.findByEmail('atomic1@example.com')).toBeUndefined();
    const dry = await importText(c, jsonl([{ email: 'dry@example.com', workspaces: [{ slug: 'dry-ws' }] }, { id: ids.ada, email: 'ada@example.com', name: 'Changed' }]), { dryRun: true, update: true });
    expect(dry).toMatchObject({ dry_run: true, created: 1, updated: 1, workspaces_created: 1, failed: 0 });
    expect(await c.accounts.findByEmail('dry@example.com')).toBeUndefined();
    expect((await c.accounts.findById(ids.ada))!.name).toBe('Ada Lovelace');
    const good = await importText(c, jsonl([{ email: 'atomic1@example.com' }]), { atomic: true });
    expect(good).toMatchObject({ created: 1, failed: 0 });
  });

  it('unsalted hashes with the operator\'s consent: verified, re-hashed, and a new password is still due', async () => {
    const report = await importText(c, jsonl([{ email: 'legacy-md5@example.com', password_hash: hashes.md5 }]), { allowUnsaltedHashes: true });
    expect(report).toMatchObject({ created: 1, failed: 0 });
    const user = await c.accounts.authenticate('legacy-md5@example.com', PASSWORD);
    expect(user?.password_change_required).toBe(true);
    const after = (await c.accounts.findByEmail('legacy-md5@example.com'))!;
    expect(after.password_hash).toMatch(/^\$argon2id\$/); // the MD5 is gone from the database at once
    expect(after.password_change_required).toBe(true);
  });
});

describe('users export', () => {
  it('writes the import format, hashes only when asked (audited); export → import into a fresh database is lossless', async () => {
    const plain = await exportText(c);
    expect(plain).not.toContain('password_hash');
    const full = await exportText(c, { withPasswordHashes: true, withTotpSecrets: true });
    const exported = await store.db.knex('audit_events').where({ type: 'users.exported' }).orderBy('id');
    expect(exported.map((e: { data: Record<string, unknown> }) => e.data.with_password_hashes)).toEqual([false, true]);

    const fresh = await postgresRoot();
    try {
      await registerProvider(fresh.root, 'google');
      const report = await importText(fresh.root, full);
      expect(report.failures).toEqual([]);
      expect(await exportText(fresh.root, { withPasswordHashes: true, withTotpSecrets: true })).toBe(full);
      // and as CSV
      const csv = await exportText(c, { withPasswordHashes: true, withTotpSecrets: true, format: 'csv' });
      const third = await postgresRoot();
      try {
        await registerProvider(third.root, 'google');
        expect((await third.root.userImport.importRecords(parseRecords(csv, 'csv'))).failed).toBe(0);
        expect(await exportText(third.root, { withPasswordHashes: true, withTotpSecrets: true })).toBe(full);
      } finally { await third.dispose(); }
      expect((await fresh.root.accounts.authenticate('dee@example.com', PASSWORD))?.id).toBe(ids.dee);
    } finally { await fresh.dispose(); }
  });
});
