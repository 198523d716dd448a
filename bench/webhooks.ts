// Webhooks bench (node bench/webhooks.ts; not part of `npm run bench`, which measures HTTP paths):
// 1. what the audit trail's outbox sink adds to a change, with 0 and 10 endpoints registered: for a
//    sign-in's event (signin.succeeded fires no webhook: no query at all) and for a user change
//    (one INSERT … SELECT writing 10 rows); the token endpoint records no audit event at all;
// 2. delivery throughput: messages per second from the outbox to a local receiver that verifies
//    nothing (the signing and the HTTP exchange are what is measured), one node.
//   DATABASE_URL=postgres://… node bench/webhooks.ts     BENCH_WEBHOOK_MESSAGES=2000 (optional)
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../src/storage/database.ts';
import { migrateLatest } from '../src/storage/migrate.ts';
import { createTransactions } from '../src/storage/transactions.ts';
import { createSecretBox } from '../src/security/secretbox.ts';
import { createAuditRepo } from '../src/audit/audit.repo.ts';
import { createAudit } from '../src/audit/audit.ts';
import { createOutbox, createWebhookRepo, createWebhooks } from '../src/webhooks/index.ts';
import { generateSecret } from '../src/webhooks/signing.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MESSAGES = Number(process.env.BENCH_WEBHOOK_MESSAGES ?? 2000);
/** Changes per measurement of the sink's cost. */
const CHANGES = 300;
const ENDPOINTS = 10;

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `gh_bench_wh_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await withDatabase(async (url) => {
  const db = openDatabase({ databaseUrl: url, dataDir: '/tmp' });
  await migrateLatest(db.knex);
  const repo = createWebhookRepo(db.knex);
  const outbox = createOutbox(repo);
  const transactions = createTransactions(db.knex);
  const audit = createAudit(createAuditRepo(db.knex), [outbox.sink]);
  const box = createSecretBox(randomBytes(32).toString('base64url'), 'bench');

  const perChange = async (type: string) => {
    const started = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      await transactions.run(async (tx) => { await audit.record({ type, subjectId: randomUUID(), data: { fields: ['name'] } }, tx); });
    }
    return (performance.now() - started) / CHANGES;
  };
  const rows: Array<[string, number, number]> = [];
  await outbox.refresh();
  const bare = { signin: await perChange('signin.succeeded'), update: await perChange('user.updated') };

  const received = { n: 0 };
  const receiver = createServer((req, res) => { req.resume(); req.on('end', () => { received.n++; res.writeHead(204).end(); }); });
  receiver.listen(0, '127.0.0.1');
  await new Promise((r) => receiver.once('listening', r));
  const port = (receiver.address() as { port: number }).port;
  for (let i = 0; i < ENDPOINTS; i++) {
    await repo.insertEndpoint({ id: randomUUID(), url: `http://127.0.0.1:${port}/e${i}`, events: ['user.updated'], workspace_id: null, secret_encrypted: box.seal(generateSecret()), description: '' });
  }
  await outbox.refresh();
  rows.push(['signin.succeeded (sign-in)', bare.signin, await perChange('signin.succeeded')]);
  rows.push(['user.updated', bare.update, await perChange('user.updated')]);
  process.stdout.write(`audit + outbox per change, ms (0 endpoints → ${ENDPOINTS} endpoints):\n`);
  for (const [name, a, b] of rows) process.stdout.write(`  ${name.padEnd(28)} ${a.toFixed(2)} → ${b.toFixed(2)}\n`);

  await db.knex('webhook_messages').delete();
  await db.knex('webhook_endpoints').whereNot('url', `http://127.0.0.1:${port}/e0`).delete();
  await outbox.refresh();
  await audit.recordMany(Array.from({ length: MESSAGES }, () => ({ type: 'user.updated', subjectId: randomUUID(), data: { fields: ['name'] } })));
  const { webhookDelivery } = createWebhooks({ repo, outbox, transactions, box, audit, log: pino({ level: 'silent' }) }, {
    strict: false, allowCidrs: [], retrySchedule: [1], disableAfterSeconds: 86400, timeoutSeconds: 10, pollMs: 50,
  });
  const started = performance.now();
  webhookDelivery.start();
  while (received.n < MESSAGES) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  await webhookDelivery.stop();
  process.stdout.write(`delivery: ${MESSAGES} messages in ${seconds.toFixed(2)} s = ${Math.round(MESSAGES / seconds)} messages/s (one node)\n`);
  receiver.close();
  await db.close();
});
