// Webhook delivery end to end: real Gatehouse processes on one Postgres, changes made through the
// operator CLI (and a bulk change through the audit trail), and a real HTTP receiver that verifies
// every request with the `standardwebhooks` library (the reference implementation receivers use).
//
// Short settings make a day of retries last seconds (docs/webhooks.md, "Testing"):
// GATEHOUSE_WEBHOOK_RETRY_SCHEDULE of many 0.5 s steps, GATEHOUSE_WEBHOOK_POLL_MS=100, and a 1 s
// request timeout (so a killed node's lease, twice the timeout plus 5 s, runs out in 7 s).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import knexFactory, { type Knex } from 'knex';
import { createSecretBox } from '../../src/security/secretbox.ts';
import { createAudit } from '../../src/audit/audit.ts';
import { createAuditRepo } from '../../src/audit/audit.repo.ts';
import { createOutbox } from '../../src/webhooks/outbox.ts';
import { createWebhookRepo } from '../../src/webhooks/webhook.repo.ts';
import { generateSecret } from '../../src/webhooks/signing.ts';
import { freshDatabase, requireReal } from '../support/env.ts';
import { freePort } from '../support/server.ts';
import { stopAtTeardown } from '../support/leftovers.ts';
import { tempDir } from '../support/stores.ts';

requireReal();

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const SECRET = 'webhook-e2e-secret-0123456789-abcdefghij';
/** The root's secret box purpose (src/root.ts): the endpoint's secret is sealed as the server seals it. */
const BOX_PURPOSE = 'gatehouse data encryption';
const FAST = {
  GATEHOUSE_WEBHOOK_RETRY_SCHEDULE: Array(200).fill('0.5').join(','),
  GATEHOUSE_WEBHOOK_POLL_MS: '100',
  GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS: '1',
};
/** Nodes hear of a new endpoint from Postgres at once (LISTEN); a margin for a loaded machine. */
const ENDPOINT_RELOAD_WAIT_MS = 6_000;

// ── a receiver that verifies like an app would ──
type Mode = { kind: 'ok' } | { kind: 'status'; status: number; retryAfter?: string; times?: number } | { kind: 'slow'; ms: number };
interface Received { id: string; type: string; data: Record<string, unknown>; at: number }

function receiver(secret: () => string) {
  let mode: Mode = { kind: 'ok' };
  let server: Server | undefined;
  const accepted: Received[] = [];
  const refusedSignatures: string[] = [];
  const tries: Array<{ id: string; at: number; answered: number }> = [];
  const inFlight = new Map<string, number>();
  let overlaps = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const id = String(req.headers['webhook-id']);
    let payload: { type: string; data: Record<string, unknown> };
    try {
      payload = new Webhook(secret()).verify(body, req.headers as Record<string, string>) as typeof payload;
    } catch (err) {
      refusedSignatures.push(`${id}: ${(err as Error).message}`);
      res.writeHead(400).end();
      return;
    }
    inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
    if (inFlight.get(id)! > 1) overlaps += 1;
    try {
      const m = mode;
      if (m.kind === 'slow') await new Promise((r) => setTimeout(r, m.ms));
      if (m.kind === 'status' && (m.times === undefined || m.times-- > 0)) {
        tries.push({ id, at: Date.now(), answered: m.status });
        res.writeHead(m.status, m.retryAfter ? { 'retry-after': m.retryAfter } : {}).end('not now');
        return;
      }
      tries.push({ id, at: Date.now(), answered: 204 });
      accepted.push({ id, type: payload.type, data: payload.data, at: Date.now() });
      res.writeHead(204).end();
    } finally {
      inFlight.set(id, inFlight.get(id)! - 1);
    }
  };
  return {
    accepted, refusedSignatures, tries,
    overlaps: () => overlaps,
    setMode(m: Mode) { mode = m; },
    async up(port: number) {
      server = createServer((req, res) => { handle(req, res).catch(() => res.destroy()); });
      server.listen(port, '127.0.0.1');
      await new Promise((r) => server!.once('listening', r));
    },
    async down() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
      server = undefined;
    },
  };
}

// ── Gatehouse nodes as plain processes (SIGKILL included) ──
interface Node { child: ChildProcess; output: string[]; url: string; kill(signal: NodeJS.Signals): Promise<void> }

async function startNode(env: NodeJS.ProcessEnv): Promise<Node> {
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, PORT: String(port), GATEHOUSE_ISSUER: `http://127.0.0.1:${port}` },
  });
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  stopAtTeardown(() => kill('SIGKILL'));
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited:\n${output.join('')}`);
    if (Date.now() > until) throw new Error(`node not ready:\n${output.join('')}`);
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output, url: `http://127.0.0.1:${port}`, kill };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('webhook delivery', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let knex: Knex;
  let env: NodeJS.ProcessEnv;
  const dir = tempDir('gh-webhooks-');
  const secret = generateSecret();
  const rx = receiver(() => secret);
  let port: number;
  let endpointId: string;
  const nodes: Node[] = [];

  const cli = async (args: string[]) => {
    const r = await exec(process.execPath, ['bin/gatehouse.js', ...args, '--json'], { cwd: ROOT, env: { ...env, PORT: undefined } });
    return JSON.parse(r.stdout);
  };
  const messages = () => knex('webhook_messages').where({ endpoint_id: endpointId }).orderBy('seq');
  /** Events through the audit trail straight into the shared database, as a bulk change would. */
  const bulk = async (events: Array<{ type: string; subjectId: string; data?: Record<string, unknown> }>) => {
    const outbox = createOutbox(createWebhookRepo(knex));
    await createAudit(createAuditRepo(knex), [outbox.sink]).recordMany(events);
  };
  /** Every message accepted exactly once, each subject's in the order they were written. */
  const expectExactlyOnceInOrder = async () => {
    const rows = await messages();
    const ids = rx.accepted.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
    const bySubject = (list: Array<{ id: string; subject: string }>) => {
      const out = new Map<string, string[]>();
      for (const m of list) out.set(m.subject, [...(out.get(m.subject) ?? []), m.id]);
      return out;
    };
    const subjectOf = new Map(rows.map((r) => [r.id, r.subject as string]));
    expect(bySubject(rx.accepted.map((a) => ({ id: a.id, subject: subjectOf.get(a.id)! })))).toEqual(bySubject(rows));
  };

  beforeAll(async () => {
    db = await freshDatabase();
    env = {
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: db.url,
      GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATA_DIR: dir.path, ...FAST,
    };
    port = await freePort();
    nodes.push(await startNode(env)); // migrates
    knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 4 } });
    endpointId = randomUUID();
    await createWebhookRepo(knex).insertEndpoint({
      id: endpointId, url: `http://127.0.0.1:${port}/hook`, events: ['*'], workspace_id: null,
      secret_encrypted: createSecretBox(SECRET, BOX_PURPOSE).seal(secret), description: 'e2e receiver',
    });
    await new Promise((r) => setTimeout(r, ENDPOINT_RELOAD_WAIT_MS)); // the node hears of it
  }, 90_000);
  afterAll(async () => {
    for (const n of nodes) await n.kill('SIGTERM');
    await rx.down();
    await knex?.destroy();
    await db?.drop();
    dir.remove();
  });

  it('receiver down, then 500, then back: every message exactly once, in order per subject, verified', async () => {
    const a = await cli(['users', 'create', '--email', `a-${Date.now()}@example.com`, '--password', 'correct horse battery staple']);
    const b = await cli(['users', 'create', '--email', `b-${Date.now()}@example.com`, '--password', 'correct horse battery staple']);
    await cli(['users', 'disable', a.email]);
    await cli(['users', 'require-mfa', b.email]);
    await cli(['users', 'enable', a.email]);
    expect((await messages()).map((m) => m.event_type)).toEqual(['user.created', 'user.created', 'user.disabled', 'user.updated', 'user.enabled']);
    // down: connection refused, retried
    await until('failed attempts while the receiver is down', async () => Number((await knex('webhook_attempts').count({ n: '*' }))[0]!.n) >= 4);
    expect(rx.accepted).toHaveLength(0);
    // the backlog shows in the metrics: messages waiting, and the oldest one's age
    const metric = async (name: string) => {
      const text = await (await fetch(`${nodes[0]!.url}/metrics`)).text();
      return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
    };
    expect(await metric('gatehouse_webhook_messages{status="pending"}') + await metric('gatehouse_webhook_messages{status="delivering"}')).toBeGreaterThan(0);
    expect(await metric('gatehouse_webhook_oldest_pending_seconds')).toBeGreaterThan(0);
    // up, answering 500
    rx.setMode({ kind: 'status', status: 500 });
    await rx.up(port);
    await until('500s answered', () => rx.tries.length >= 4);
    expect(rx.accepted).toHaveLength(0);
    // back
    rx.setMode({ kind: 'ok' });
    await until('every message accepted', () => rx.accepted.length >= 5);
    await new Promise((r) => setTimeout(r, 1000)); // nothing more arrives
    await expectExactlyOnceInOrder();
    expect(rx.refusedSignatures).toEqual([]);
    const created = rx.accepted.find((m) => m.type === 'user.created' && m.data.user_id === a.id);
    expect(created?.data).toEqual({ user_id: a.id, source: 'cli' });
    const log = await knex('webhook_attempts').where({ endpoint_id: endpointId });
    expect(log.some((l) => l.error?.includes('ECONNREFUSED'))).toBe(true);
    expect(log.some((l) => l.status_code === 500 && l.response_excerpt === 'not now')).toBe(true);
    expect((await messages()).every((m) => m.status === 'delivered')).toBe(true);
    await new Promise((r) => setTimeout(r, 1100)); // past the metrics' shared read
    expect(await metric('gatehouse_webhook_messages{status="delivered"}')).toBe(5);
    expect(await metric('gatehouse_webhook_oldest_pending_seconds')).toBe(0);
  }, 90_000);

  it('honours Retry-After', async () => {
    rx.setMode({ kind: 'status', status: 429, retryAfter: '2', times: 1 });
    const user = randomUUID();
    await bulk([{ type: 'email.verified', subjectId: user }]);
    await until('the retried message', () => rx.accepted.some((m) => m.data.user_id === user), 20_000);
    const tries = rx.tries.filter((t) => rx.accepted.find((m) => m.id === t.id && m.data.user_id === user));
    expect(tries.map((t) => t.answered)).toEqual([429, 204]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1900); // not the 0.5 s schedule
  }, 30_000);

  it('a node killed with messages pending delivers them after restart', async () => {
    await rx.down();
    const users: string[] = Array.from({ length: 20 }, () => randomUUID());
    await bulk(users.flatMap((u) => [
      { type: 'user.updated', subjectId: u, data: { fields: ['name'], source: 'admin' } },
      { type: 'password.reset', subjectId: u, actorId: u },
    ]));
    await until('attempts failing', async () => Number((await knex('webhook_messages').where({ status: 'pending' }).where('attempts', '>', 0).count({ n: '*' }))[0]!.n) > 0);
    await nodes.shift()!.kill('SIGKILL');
    await rx.up(port);
    rx.setMode({ kind: 'ok' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.accepted.filter((m) => users.includes(String(m.data.user_id)))).toHaveLength(0); // nobody sends while it is down
    nodes.push(await startNode(env));
    await until('every message after the restart', () => rx.accepted.filter((m) => users.includes(String(m.data.user_id))).length >= 40, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    await expectExactlyOnceInOrder();
  }, 90_000);

  it('two nodes on one Postgres never deliver the same message at once', async () => {
    nodes.push(await startNode(env));
    rx.setMode({ kind: 'slow', ms: 150 });
    const users: string[] = Array.from({ length: 60 }, () => randomUUID());
    await bulk(users.flatMap((u) => [{ type: 'user.disabled', subjectId: u }, { type: 'user.enabled', subjectId: u }]));
    await until('120 messages', () => rx.accepted.filter((m) => users.includes(String(m.data.user_id))).length >= 120, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.overlaps()).toBe(0);
    await expectExactlyOnceInOrder();
  }, 90_000);
});
