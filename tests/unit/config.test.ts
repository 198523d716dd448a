import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const SECRET = 'k'.repeat(32);
const dirs: string[] = [];
const dataDir = () => { const d = mkdtempSync(join(tmpdir(), 'gh-config-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** The ConfigError loadConfig throws for env. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  let caught: unknown;
  try { loadConfig(env); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('defaults', () => {
  it('development on http://localhost:3000 with the documented defaults', () => {
    const dir = dataDir();
    const c = loadConfig({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dir });
    expect(c).toMatchObject({
      env: 'development', port: 3000, issuer: 'http://localhost:3000', dataDir: resolve(dir),
      secret: SECRET, mailFrom: 'Gatehouse <no-reply@localhost>', logLevel: 'info', trustProxy: false,
      resources: [], keyRefreshSeconds: 10, keyActivationDelaySeconds: 86400,
      ttl: { authorizationCode: 60, accessToken: 3600, idToken: 3600, refreshToken: 1209600, session: 1209600, deviceCode: 600 },
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.admin).toBeUndefined();
    expect(c.clientsFile).toBeUndefined();
    expect(c.smtpUrl).toBeUndefined();
  });

  it('the data folder defaults to ./.gatehouse', () => {
    expect(loadConfig({ GATEHOUSE_SECRET: SECRET }).dataDir).toBe(resolve('./.gatehouse'));
  });

  it('the default issuer follows PORT; empty strings count as unset', () => {
    const c = loadConfig({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), PORT: '4100', DATABASE_URL: '', REDIS_URL: '', GATEHOUSE_ISSUER: '' });
    expect(c.issuer).toBe('http://localhost:4100');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it('reads the stores, admin, resources and proxy settings', () => {
    const c = loadConfig({
      GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), DATABASE_URL: 'postgres://db/gh', REDIS_URL: 'redis://r:6379',
      GATEHOUSE_ADMIN_EMAIL: 'admin@example.com', GATEHOUSE_ADMIN_PASSWORD: 'a long admin password',
      GATEHOUSE_RESOURCES: ' https://api.example.com, ,https://b.example.com,', GATEHOUSE_TRUST_PROXY: 'true', GATEHOUSE_CODE_TTL: '30',
    });
    expect(c).toMatchObject({
      databaseUrl: 'postgres://db/gh', redisUrl: 'redis://r:6379', trustProxy: true,
      admin: { email: 'admin@example.com', password: 'a long admin password' },
      resources: ['https://api.example.com', 'https://b.example.com'],
    });
    expect(c.ttl.authorizationCode).toBe(30);
  });
});

describe('refusals say what to set', () => {
  it('a key activation delay that does not exceed the key refresh interval', () => {
    const err = refusal({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_KEY_REFRESH_SECONDS: '60', GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS: '60' });
    expect(err.message).toMatch(/GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS \(60\) must exceed GATEHOUSE_KEY_REFRESH_SECONDS \(60\)/);
    expect(loadConfig({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_KEY_REFRESH_SECONDS: '1', GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS: '2' }).keyActivationDelaySeconds).toBe(2);
  });

  it('production refuses a plain-http issuer other than localhost', () => {
    const err = refusal({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_ISSUER: 'http://id.example.com' });
    expect(err.message).toMatch(/GATEHOUSE_ISSUER/);
    expect(err.message).toMatch(/https/);
  });

  it.each(['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'https://id.example.com'])(
    'production accepts %s', (issuer) => {
      expect(loadConfig({ NODE_ENV: 'production', GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_ISSUER: issuer, GATEHOUSE_TRUST_PROXY: '1' }).issuer).toBe(issuer);
    },
  );

  it('production refuses to start without GATEHOUSE_SECRET, and writes no secret file', () => {
    const dir = dataDir();
    const err = refusal({ NODE_ENV: 'production', GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_DATA_DIR: dir });
    expect(err.message).toMatch(/GATEHOUSE_SECRET/);
    expect(err.message).toMatch(/set it/i);
    expect(err.message).toMatch(/32/);
    expect(existsSync(join(dir, 'secret'))).toBe(false);
  });

  it('production never falls back to a development secret left in the data folder', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'secret'), `${'d'.repeat(43)}\n`);
    expect(refusal({ NODE_ENV: 'production', GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_DATA_DIR: dir }).message).toMatch(/GATEHOUSE_SECRET/);
  });

  it('a short GATEHOUSE_SECRET is refused in every environment', () => {
    for (const NODE_ENV of ['development', 'production']) {
      const err = refusal({ NODE_ENV, GATEHOUSE_SECRET: 'too-short', GATEHOUSE_ISSUER: 'https://id.example.com', GATEHOUSE_TRUST_PROXY: '1', GATEHOUSE_DATA_DIR: dataDir() });
      expect(err.message).toMatch(/GATEHOUSE_SECRET must be at least 32 characters/);
    }
  });

  it.each([
    ['id.example.com', /absolute URL/],
    ['https://id.example.com/', /trailing slash/],
    ['https://id.example.com?x=1', /query/],
    ['ftp://id.example.com', /http\(s\)/],
  ])('refuses the issuer %s', (issuer, why) => {
    const err = refusal({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_ISSUER: issuer });
    expect(err.message).toMatch(/GATEHOUSE_ISSUER/);
    expect(err.message).toMatch(why);
  });

  it('refuses half an admin', () => {
    for (const half of [{ GATEHOUSE_ADMIN_EMAIL: 'a@example.com' }, { GATEHOUSE_ADMIN_PASSWORD: 'a long password' }]) {
      const err = refusal({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), ...half });
      expect(err.message).toMatch(/GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD/);
    }
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV/],
    [{ GATEHOUSE_CODE_TTL: '3600' }, /GATEHOUSE_CODE_TTL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('names the invalid setting %o', (bad, name) => {
    const err = refusal({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), ...bad });
    expect(err.message).toMatch(/^Invalid setting /);
    expect(err.message).toMatch(name);
  });
});

describe('development secret', () => {
  it('is generated once into <data dir>/secret (mode 0600) and reused', () => {
    const dir = dataDir();
    const first = loadConfig({ GATEHOUSE_DATA_DIR: dir });
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, 'secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    expect(loadConfig({ GATEHOUSE_DATA_DIR: dir }).secret).toBe(first.secret);
    expect(loadConfig({ NODE_ENV: 'test', GATEHOUSE_DATA_DIR: dir }).secret).toBe(first.secret);
  });

  it('creates the data folder when it does not exist, and differs between folders', () => {
    const parent = dataDir();
    const a = loadConfig({ GATEHOUSE_DATA_DIR: join(parent, 'nested', 'a') });
    const b = loadConfig({ GATEHOUSE_DATA_DIR: join(parent, 'b') });
    expect(existsSync(join(parent, 'nested', 'a', 'secret'))).toBe(true);
    expect(a.secret).not.toBe(b.secret);
  });

  it('an explicit GATEHOUSE_SECRET wins and nothing is written', () => {
    const dir = dataDir();
    expect(loadConfig({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dir }).secret).toBe(SECRET);
    expect(existsSync(join(dir, 'secret'))).toBe(false);
  });
});

describe('GATEHOUSE_AUTHORIZE_POST', () => {
  it('is off by default, and allowed on https and loopback issuers only', () => {
    const base = { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir() };
    expect(loadConfig(base).authorizePost).toBe(false);
    for (const issuer of ['https://id.example.com', 'http://localhost:3000', 'http://127.0.0.1:4000', 'http://[::1]:3000']) {
      expect(loadConfig({ ...base, GATEHOUSE_ISSUER: issuer, GATEHOUSE_AUTHORIZE_POST: 'true' }).authorizePost).toBe(true);
    }
    expect(refusal({ ...base, GATEHOUSE_ISSUER: 'http://id.example.test', GATEHOUSE_AUTHORIZE_POST: 'true' }).message)
      .toMatch(/GATEHOUSE_AUTHORIZE_POST=true needs an https GATEHOUSE_ISSUER/);
    expect(refusal({ ...base, GATEHOUSE_AUTHORIZE_POST: 'yes' }).message).toMatch(/GATEHOUSE_AUTHORIZE_POST/);
  });
});

describe('an https issuer behind its TLS proxy', () => {
  const base = () => ({ GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dataDir(), GATEHOUSE_ISSUER: 'https://id.example.com' });

  it('production refuses to start without a trusted proxy, saying what to set', () => {
    for (const trust of [{}, { GATEHOUSE_TRUST_PROXY: 'false' }, { GATEHOUSE_TRUST_PROXY: '0' }]) {
      const err = refusal({ ...base(), NODE_ENV: 'production', ...trust });
      expect(err.message).toMatch(/GATEHOUSE_ISSUER is https/);
      expect(err.message).toMatch(/never terminates TLS/);
      expect(err.message).toMatch(/Set GATEHOUSE_TRUST_PROXY to the number of proxies in front/);
    }
  });

  it('starts with the proxy trusted; development and test start either way (the pages then answer 421)', () => {
    expect(loadConfig({ ...base(), NODE_ENV: 'production', GATEHOUSE_TRUST_PROXY: 'true' })).toMatchObject({ trustProxy: true, proxyHops: 1 });
    expect(loadConfig({ ...base(), NODE_ENV: 'production', GATEHOUSE_TRUST_PROXY: '2' }).proxyHops).toBe(2);
    for (const NODE_ENV of ['development', 'test']) expect(loadConfig({ ...base(), NODE_ENV }).trustProxy).toBe(false);
  });
});
