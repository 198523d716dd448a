// Where the real services are. CI sets DATABASE_URL and REDIS_URL (see .ci/run); on a developer
// machine without them, suites that need a real server say so instead of silently passing.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

export function requireReal(): { databaseUrl: string; redisUrl: string } {
  if (!DATABASE_URL || !REDIS_URL) {
    throw new Error('Integration and end-to-end tests need DATABASE_URL and REDIS_URL (PostgreSQL and Redis); .ci/run sets them.');
  }
  return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL };
}

/** A fresh, empty database on the same server as DATABASE_URL; drop() removes it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { databaseUrl } = requireReal();
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
