// The recipes of docs/migrating.md, run as written: each builds a file in the source system's own
// shape, with password hashes made by independent code (Debian's Python: pwdlib's argon2id defaults
// through argon2-cffi, bcrypt, passlib's Django handlers, Keycloak's PBKDF2 through hashlib — see
// tests/support/legacy-hashes.ts), runs the documented SQL or one-liner, imports the result and
// signs the users in. The SQL runs with psql against real Postgres tables shaped like the system's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { postgresRoot, type Root } from '../support/root.ts';
import { freshDatabase, requireReal } from '../support/env.ts';
import { legacyHashes } from '../support/legacy-hashes.ts';
import { parseRecords } from '../../src/transfer/parse.ts';

requireReal();

const GUIDE = readFileSync(resolve(import.meta.dirname, '../../docs/migrating.md'), 'utf8');
/** The fenced blocks after `<!-- tested: name -->`, up to the next heading. */
function blocks(name: string): string[] {
  const start = GUIDE.indexOf(`<!-- tested: ${name} -->`);
  if (start < 0) throw new Error(`docs/migrating.md has no tested block "${name}"`);
  const section = GUIDE.slice(start, GUIDE.indexOf('\n## ', start) > 0 ? GUIDE.indexOf('\n## ', start) : undefined);
  return [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs a documented shell line in `cwd` with bash, Node 24 first on PATH. */
function sh(line: string, cwd: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', line], {
    cwd, encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ...env },
  });
}

const PASSWORD = 'correct horse battery staple 1';
let store: Awaited<ReturnType<typeof postgresRoot>>;
let c: Root;
let dir: string;

beforeAll(async () => {
  store = await postgresRoot();
  c = store.root;
  dir = mkdtempSync(join(tmpdir(), 'gh-guides-'));
  for (const name of ['google', 'github']) {
    await c.providerRepo.insert({ id: randomUUID(), name, display_name: name, kind: name, issuer: null, client_id: 'x', client_secret_encrypted: null, private_key_encrypted: null, settings: {}, enabled: true, source: 'cli' });
  }
});
afterAll(async () => {
  await store?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function importFile(path: string) {
  const report = await c.userImport.importRecords(parseRecords(readFileSync(path, 'utf8'), 'jsonl'));
  expect(report.failures).toEqual([]);
  return report;
}

async function withDatabase(schema: string, fn: (url: string, client: pg.Client) => Promise<void>) {
  const db = await freshDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(schema);
    await fn(db.url, client);
  } finally {
    await client.end();
    await db.drop();
  }
}

describe('docs/migrating.md', () => {
  it('fastapi-users: the documented SQL over its tables; ids kept, argon2id (pwdlib) and bcrypt verify, organisations and OAuth accounts come along', async () => {
    // the tables as fastapi-users-db-sqlalchemy declares them (SQLAlchemyBaseUserTableUUID, SQLAlchemyBaseOAuthAccountTableUUID), plus the usual organisations
    const schema = `
      create table "user" (id uuid primary key, email varchar(320) not null unique, hashed_password varchar(1024) not null,
        is_active boolean not null, is_superuser boolean not null, is_verified boolean not null);
      create table oauth_account (id uuid primary key, oauth_name varchar(100) not null, access_token varchar(1024) not null,
        expires_at integer, refresh_token varchar(1024), account_id varchar(320) not null, account_email varchar(320) not null,
        user_id uuid not null references "user"(id) on delete cascade);
      create table organization (id uuid primary key, slug text not null unique, name text not null);
      create table membership (user_id uuid references "user"(id), organization_id uuid references organization(id), role text not null,
        primary key (user_id, organization_id));`;
    const [argon, bcrypt] = legacyHashes([['argon2id', PASSWORD], ['bcrypt-2b', PASSWORD]]);
    const ids = [randomUUID(), randomUUID()];
    const org = randomUUID();
    await withDatabase(schema, async (url, db) => {
      await db.query(`insert into "user" values ($1, 'Alice@fastapi.example', $3, true, true, true), ($2, 'bob@fastapi.example', $4, false, false, false)`, [ids[0], ids[1], argon, bcrypt]);
      await db.query(`insert into oauth_account values ($1, 'google', 'at', null, null, '10001', 'alice@gmail.example', $2)`, [randomUUID(), ids[0]]);
      await db.query(`insert into organization values ($1, 'acme', 'Acme Inc.')`, [org]);
      await db.query(`insert into membership values ($1, $3, 'owner'), ($2, $3, 'member')`, [ids[0], ids[1], org]);
      const [sql, command] = blocks('fastapi-users');
      writeFileSync(join(dir, 'users.sql'), sql!);
      sh(command!.split('\n')[0]!, dir, { APP_DATABASE_URL: url });
    });
    const report = await importFile(join(dir, 'users.jsonl'));
    expect(report).toMatchObject({ created: 2, workspaces_created: 1 });
    const alice = await c.accounts.authenticate('alice@fastapi.example', PASSWORD);
    expect(alice).toMatchObject({ id: ids[0], roles: ['admin'], email_verified: true });
    expect((await c.identityRepo.findByProviderSubject('google', '10001'))?.user_id).toBe(ids[0]);
    expect((await c.workspaceRepo.membershipsOf(ids[0]!)).memberships.map((m) => [m.slug, m.name, m.role])).toEqual([['acme', 'Acme Inc.', 'owner']]);
    // bob is inactive in fastapi-users: disabled here, so even the right password does not sign in
    expect(await c.accounts.authenticate('bob@fastapi.example', PASSWORD)).toBeUndefined();
    expect((await c.accounts.findById(ids[1]!))!.disabled_at).not.toBeNull();
  });

  it('Django: auth_user through the documented SQL; pbkdf2_sha256, argon2, bcrypt_sha256 verify; unusable passwords become none', async () => {
    const schema = `create table auth_user (id serial primary key, password varchar(128) not null, last_login timestamptz,
      is_superuser boolean not null, username varchar(150) not null unique, first_name varchar(150) not null, last_name varchar(150) not null,
      email varchar(254) not null, is_staff boolean not null, is_active boolean not null, date_joined timestamptz not null)`;
    const hashes = legacyHashes([['django-pbkdf2_sha256', PASSWORD], ['django-argon2', PASSWORD], ['django-bcrypt_sha256', PASSWORD]]);
    const people = ['pbkdf2', 'argon2', 'bcrypt'];
    await withDatabase(schema, async (url, db) => {
      for (const [i, who] of people.entries()) {
        await db.query(`insert into auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
          values ($1, $2, $3, 'Dj', 'Ango', $4, false, true, '2018-06-01T10:00:00Z')`, [hashes[i], i === 0, who, `${who}@django.example`]);
      }
      await db.query(`insert into auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
        values ('!unusableXYZ', false, 'sso', '', '', 'sso@django.example', false, true, now())`);
      const [sql, command] = blocks('django');
      writeFileSync(join(dir, 'django-users.sql'), sql!);
      sh(command!.trim(), dir, { DJANGO_DATABASE_URL: url });
    });
    expect(await importFile(join(dir, 'users.jsonl'))).toMatchObject({ created: 4 });
    for (const who of people) {
      const user = await c.accounts.authenticate(`${who}@django.example`, PASSWORD);
      expect({ who, name: user?.name, hash: user && (await c.accounts.findById(user.id))!.password_hash!.slice(0, 9) }).toEqual({ who, name: 'Dj Ango', hash: '$argon2id' });
    }
    expect((await c.accounts.findByEmail('pbkdf2@django.example'))!.roles).toEqual(['admin']);
    expect((await c.accounts.findByEmail('sso@django.example'))!.password_hash).toBeNull();
  });

  it("Keycloak: the documented one-liner over a realm export; ids kept, pbkdf2-sha256/512 verify, identities linked", async () => {
    const [sha256, sha512] = legacyHashes([['keycloak-pbkdf2-sha256', PASSWORD], ['keycloak-pbkdf2-sha512', PASSWORD]]);
    const ids = [randomUUID(), randomUUID()];
    const realm = {
      realm: 'myrealm',
      users: [
        { id: ids[0], username: 'kc1', email: 'kc1@keycloak.example', emailVerified: true, enabled: true, firstName: 'Kay', lastName: 'Cloak', createdTimestamp: 1700000000000,
          credentials: [JSON.parse(sha256!)], realmRoles: ['default-roles-myrealm', 'offline_access', 'Editor'], federatedIdentities: [{ identityProvider: 'github', userId: '777', userName: 'kay' }] },
        { id: ids[1], username: 'kc2', email: 'kc2@keycloak.example', emailVerified: false, enabled: true, createdTimestamp: 1700000001000, credentials: [JSON.parse(sha512!)] },
        { id: randomUUID(), username: 'service-account-x', serviceAccountClientId: 'x', enabled: true },
      ],
    };
    writeFileSync(join(dir, 'realm.json'), JSON.stringify(realm, null, 2));
    sh(blocks('keycloak')[0]!, dir);
    expect(await importFile(join(dir, 'users.jsonl'))).toMatchObject({ created: 2 });
    expect(await c.accounts.authenticate('kc1@keycloak.example', PASSWORD)).toMatchObject({ id: ids[0], roles: ['editor'], given_name: 'Kay' });
    expect((await c.accounts.authenticate('kc2@keycloak.example', PASSWORD))?.id).toBe(ids[1]);
    expect((await c.identityRepo.findByProviderSubject('github', '777'))?.user_id).toBe(ids[0]);
  });

  it('Auth0: the documented one-liner joins the export and the password-hash file; bcrypt verifies', async () => {
    const [hash] = legacyHashes([['bcrypt-2b', PASSWORD]]);
    writeFileSync(join(dir, 'users-export.ndjson'), [
      { user_id: 'auth0|65a1b2c3d4e5f6a7b8c9d0e1', email: 'Zero@Auth0.example', email_verified: true, name: 'Zero', created_at: '2021-02-03T04:05:06.789Z' },
      { user_id: 'google-oauth2|1234', email: 'social@auth0.example', email_verified: true, blocked: true },
    ].map((u) => JSON.stringify(u)).join('\n'));
    writeFileSync(join(dir, 'password-hashes.ndjson'), JSON.stringify({ _id: { $oid: '65a1b2c3d4e5f6a7b8c9d0e1' }, email: 'zero@auth0.example', email_verified: true, passwordHash: hash }));
    sh(blocks('auth0')[0]!, dir);
    expect(await importFile(join(dir, 'users.jsonl'))).toMatchObject({ created: 2 });
    const zero = await c.accounts.authenticate('zero@auth0.example', PASSWORD);
    expect(zero).toMatchObject({ name: 'Zero', email_verified: true });
    expect(new Date(zero!.created_at).toISOString()).toBe('2021-02-03T04:05:06.789Z');
    expect((await c.accounts.findByEmail('social@auth0.example'))!.disabled_at).not.toBeNull();
  });
});
