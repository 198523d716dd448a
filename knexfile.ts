// For the knex CLI and tools: the same migrations the server runs on start (`gatehouse migrate`).
import { migrationSource } from './migrations/index.ts';

export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource, tableName: 'knex_migrations' },
};
