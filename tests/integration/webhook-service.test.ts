// The webhook service and delivery loop on a real Postgres with a real receiver: production rules
// refuse private addresses at registration and again at send time; a test ping is signed and
// logged; a final 4xx is not retried; an endpoint failing too long is disabled with a reason, and
// enabling it and replaying its failed messages sends them again under the same ids.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { createAuditRepo } from '../../src/audit/audit.repo.ts';
import { createAudit } from '../../src/audit/audit.ts';
import { AppError } from '../../src/errors/app-error.ts';
import { createSecretBox } from '../../src/security/secretbox.ts';
import { createTransactions } from '../../src/storage/transactions.ts';
import { createOutbox, createWebhookRepo, createWebhooks } from '../../src/webhooks/index.ts';
import { migratedPostgres, testSecret, type OpenStore } from '../support/stores.ts';
import { requireReal } from '../support/env.ts';

requireReal();

const OPERATOR = { actorId: null, userAgent: 'test' };
/** One master secret, as one deployment has: every build() opens what another sealed. */
const MASTER = testSecret();

let store: OpenStore;
let server: Server;
let port: number;
let answer = 204;
const received: Array<{ id: string; type: string; verified: boolean }> = [];
const secrets = new Map<string, string>();

function build(strict: boolean, disableAfterSeconds = 86400) {
  const repo = createWebhookRepo(store.db.knex);
  const outbox = createOutbox(repo);
  const transactions = createTransactions(store.db.knex);
  const audit = createAudit(createAuditRepo(store.db.knex), [outbox.sink]);
  const box = createSecretBox(MASTER, 'test');
  const built = createWebhooks({ repo, outbox, transactions, box, audit, log: pino({ level: 'silent' }) }, {
    strict, allowCidrs: [], retrySchedule: [0.05, 0.05, 0.05], disableAfterSeconds, timeoutSeconds: 2, pollMs: 50,
  });
  return { ...built, repo, audit, outbox };
}

beforeAll(async () => {
  store = await migratedPostgres();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const secret = secrets.get(req.url!.slice(1))!;
      let verified = false;
      try { new Webhook(secret).verify(body, req.headers as Record<string, string>); verified = true; } catch { /* recorded below */ }
      received.push({ id: String(req.headers['webhook-id']), type: JSON.parse(body).type, verified });
      res.writeHead(answer).end('{"ok":false,"note":"' + 'x'.repeat(5000) + '"}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await store?.dispose();
});

const reason = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).message;
};

describe('in production', () => {
  it('refuses URLs that are not https or reach private, loopback, link-local or metadata addresses', async () => {
    const { webhooks } = build(true);
    for (const url of ['https://127.0.0.1/hook', 'https://10.1.2.3/hook', 'https://169.254.169.254/latest', 'https://[fd00:ec2::254]/x', 'https://[::1]/x', 'https://localhost/x', 'https://100.64.1.1/x']) {
      expect(await reason(webhooks.create({ url, events: ['*'] }, OPERATOR))).toMatch(/non-public address/);
    }
    expect(await reason(webhooks.create({ url: 'http://example.com/hook', events: ['*'] }, OPERATOR))).toMatch(/https/);
    expect(await reason(webhooks.create({ url: 'https://example.com/hook', events: ['user.nope'] }, OPERATOR))).toMatch(/unknown event type/);
    expect(await webhooks.list()).toEqual([]);
  });

  it('checks again at send time: a message to an endpoint now resolving privately is never sent', async () => {
    const dev = build(false);
    const { endpoint, secret } = await dev.webhooks.create({ url: `http://127.0.0.1:${port}/prod`, events: ['*'] }, OPERATOR);
    secrets.set('prod', secret);
    const prod = build(true);
    await prod.outbox.refresh();
    await prod.audit.record({ type: 'user.disabled', subjectId: randomUUID() });
    const before = received.length;
    expect(await prod.webhookDelivery.runOnce()).toBe(1);
    expect(received.length).toBe(before);
    const { deliveries } = await prod.webhooks.deliveriesFor(endpoint.id, { limit: 10, offset: 0 });
    expect(deliveries[0]).toMatchObject({ status_code: null, event_type: 'user.disabled' });
    expect(deliveries[0]!.error).toMatch(/https in production|non-public/);
    await dev.webhooks.remove(endpoint.id, OPERATOR);
  });
});

describe('the service and the delivery loop', () => {
  it('sends a signed test ping at once and logs it, with a capped excerpt', async () => {
    const { webhooks } = build(false);
    const { endpoint, secret } = await webhooks.create({ url: `http://127.0.0.1:${port}/ping`, events: ['user.created'], description: 'ping' }, OPERATOR);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(JSON.stringify(await webhooks.get(endpoint.id))).not.toContain(secret);
    secrets.set('ping', secret);
    answer = 204;
    const outcome = await webhooks.sendTest(endpoint.id);
    expect(outcome).toMatchObject({ delivered: true, status_code: 204, error: null });
    expect(received.at(-1)).toMatchObject({ id: outcome.message_id, type: 'webhook.test', verified: true });
    answer = 200;
    const second = await webhooks.sendTest(endpoint.id);
    expect(second.response_excerpt!.length).toBe(1024);
    const { total } = await webhooks.deliveriesFor(endpoint.id, { limit: 10, offset: 0 });
    expect(total).toBe(2);
    await webhooks.remove(endpoint.id, OPERATOR);
  });

  it('a final 4xx is not retried; failing too long disables the endpoint; enable + replay sends again', async () => {
    const { webhooks, webhookDelivery, audit, repo } = build(false, 0.01);
    const { endpoint, secret } = await webhooks.create({ url: `http://127.0.0.1:${port}/fail`, events: ['*'] }, OPERATOR);
    secrets.set('fail', secret);
    answer = 400;
    await audit.record({ type: 'user.deleted', subjectId: randomUUID() });
    await webhookDelivery.runOnce();
    const [m] = (await webhooks.messagesFor(endpoint.id, { limit: 10, offset: 0 })).messages;
    expect(m).toMatchObject({ status: 'failed', attempts: 1, last_status: 400 });

    answer = 503;
    await audit.record({ type: 'user.enabled', subjectId: randomUUID() });
    await new Promise((r) => setTimeout(r, 20));
    await webhookDelivery.runOnce();
    const disabled = await webhooks.get(endpoint.id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabled_reason).toMatch(/every delivery failed/);
    // disabled: nothing is written for it nor sent
    await audit.record({ type: 'user.enabled', subjectId: randomUUID() });
    expect((await webhooks.messagesFor(endpoint.id, { limit: 10, offset: 0 })).total).toBe(2);

    answer = 204;
    await webhooks.enable(endpoint.id, OPERATOR);
    expect(await webhooks.replay(endpoint.id, OPERATOR)).toBe(1); // the 400; the 503 one is still pending
    for (let i = 0; i < 20 && (await repo.stats()).counts.pending > 0; i++) { await webhookDelivery.runOnce(); await new Promise((r) => setTimeout(r, 60)); }
    const { messages } = await webhooks.messagesFor(endpoint.id, { limit: 10, offset: 0 });
    expect(messages.map((x) => x.status)).toEqual(['delivered', 'delivered']);
    expect(received.filter((r) => r.id === m!.id && r.verified)).toHaveLength(2); // the same id again
    await webhooks.remove(endpoint.id, OPERATOR);
  });

  it('rotating the secret signs from then on with the new one', async () => {
    const { webhooks } = build(false);
    const { endpoint, secret } = await webhooks.create({ url: `http://127.0.0.1:${port}/rot`, events: ['*'] }, OPERATOR);
    const rotated = await webhooks.rotateSecret(endpoint.id, OPERATOR);
    expect(rotated.secret).not.toBe(secret);
    secrets.set('rot', secret);
    answer = 204;
    await webhooks.sendTest(endpoint.id);
    expect(received.at(-1)!.verified).toBe(false);
    secrets.set('rot', rotated.secret);
    await webhooks.sendTest(endpoint.id);
    expect(received.at(-1)!.verified).toBe(true);
  });
});
