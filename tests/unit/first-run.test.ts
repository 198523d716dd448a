// The first run's pure parts: the boot line (what a person reads, with no credential in it), when
// logs are pretty, and the admin-password rule (no email name in it).
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/index.ts';
import { bootLine } from '../../src/server.ts';
import { wantsPrettyLogs } from '../../src/observability/logger.ts';
import { adminPasswordProblem, envAdminPasswordProblem } from '../../src/setup/setup.service.ts';

const BASE = { GATEHOUSE_SECRET: 'k'.repeat(32), NODE_ENV: 'test' } as const;

describe('bootLine', () => {
  it('names where it listens and its stores, never the database password', () => {
    const config = loadConfig({ ...BASE, DATABASE_URL: 'postgres://gate:s3cret-pw@127.0.0.1:5432/test', REDIS_URL: 'redis://:redis-pw@127.0.0.1:6379' });
    const line = bootLine(config, 3000, { kind: 'exists', email: 'admin@example.com' });
    expect(line).toBe('Gatehouse listening on http://localhost:3000 (issuer http://localhost:3000) — PostgreSQL at 127.0.0.1:5432/test, Redis at 127.0.0.1:6379 — admin: admin@example.com exists');
    expect(line).not.toMatch(/s3cret|redis-pw|gate:/);
  });

  it('says embedded PGlite and no Redis on the default, and how to create the first admin', () => {
    const config = loadConfig({ ...BASE, GATEHOUSE_DATA_DIR: './.gatehouse-unit-test' });
    const line = bootLine(config, 3000, { kind: 'none', setupPath: '/setup/abc' });
    expect(line).toBe('Gatehouse listening on http://localhost:3000 (issuer http://localhost:3000) — embedded PGlite in ./.gatehouse-unit-test, no Redis — admin: none yet: open http://localhost:3000/setup/abc to create the first (the link works once, for 60 minutes; a restart prints a new one)');
  });

  it('says when the admin was just created from GATEHOUSE_ADMIN_EMAIL', () => {
    const config = loadConfig({ ...BASE, GATEHOUSE_DATA_DIR: './.gatehouse-unit-test' });
    expect(bootLine(config, 3001, { kind: 'created', email: 'ops@example.com' })).toMatch(/— admin: ops@example.com was just created from GATEHOUSE_ADMIN_EMAIL$/);
  });
});

describe('wantsPrettyLogs', () => {
  it('pretty on a terminal outside production; JSON on a pipe and in production', () => {
    expect(wantsPrettyLogs({ NODE_ENV: 'development' }, { isTTY: true })).toBe(true);
    expect(wantsPrettyLogs({ NODE_ENV: 'production' }, { isTTY: true })).toBe(false);
    expect(wantsPrettyLogs({ NODE_ENV: 'development' }, { isTTY: false })).toBe(false);
    expect(wantsPrettyLogs({ NODE_ENV: 'test' }, {})).toBe(false);
  });
});

describe('the admin password', () => {
  it('may not contain the name in the email address, whatever its case', () => {
    expect(envAdminPasswordProblem('admin@x.com', 'admin12345678')).toBe('GATEHOUSE_ADMIN_PASSWORD contains "admin", the name in GATEHOUSE_ADMIN_EMAIL (admin@x.com), so it is easy to guess. Choose a password without it.');
    expect(envAdminPasswordProblem('admin@x.com', 'My-ADMIN-pass-phrase')).toMatch(/contains "admin"/);
    expect(adminPasswordProblem('xxAdMiNxx-long-enough', 'admin@x.com')).toEqual({ field: 'password', key: 'containsEmail', vars: { name: 'admin' } });
  });

  it('follows the normal password policy otherwise', () => {
    expect(envAdminPasswordProblem('admin@x.com', 'short')).toBe('GATEHOUSE_ADMIN_PASSWORD: Use at least 8 characters.');
    expect(envAdminPasswordProblem('admin@x.com', 'a calm harbour lantern 7')).toBeUndefined();
  });
});
