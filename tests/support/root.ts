// The composition root as the server builds it (src/root.ts), over stores a suite opened, with a
// silent log: for integration suites that exercise the services wired exactly as in production.
import pino from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config/index.ts';
import type { Database } from '../../src/storage/database.ts';
import { createRoot, type Root } from '../../src/root.ts';

export type { Root } from '../../src/root.ts';

export function testRoot(config: Config, db: Database, redis?: Redis): Root {
  return createRoot({ config, db, redis, log: pino({ level: 'silent' }) });
}
