// Where the real services are. With nothing set, the usual local addresses (what a developer and CI
// have); DATABASE_URL and REDIS_URL override them. tests/support/global-setup.ts checks once, before
// any suite runs, that they answer.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export const DATABASE_URL = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL || DEFAULT_REDIS_URL;
/** The system browser (Debian's chromium package); the hosted-page tests never download one. */
export const CHROMIUM_EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Another ecosystem's real code for the interop tests (hashes made by passlib, bcrypt and
 * argon2-cffi; the FastAPI resource-server example): Debian's packages, for Debian's own Python
 * (a python3 earlier on PATH, e.g. pyenv's, does not see them). .ci/run installs them.
 */
export const PYTHON = process.env.GATEHOUSE_TEST_PYTHON || '/usr/bin/python3';
export const PYTHON_MODULES = ['fastapi', 'jwt', 'jose', 'httpx', 'passlib', 'bcrypt', 'argon2', 'uvicorn'];
export const PYTHON_PACKAGES = ['python3-fastapi', 'python3-jwt', 'python3-jose', 'python3-httpx', 'python3-passlib', 'python3-bcrypt', 'python3-argon2', 'python3-uvicorn'];

export function requireReal(): { databaseUrl: string; redisUrl: string } {
  return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL };
}

/** A fresh, empty database on the same server as DATABASE_URL; drop() removes it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { databaseUrl } = requireReal();
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
