// The webhook outbox on real stores, Postgres and the embedded PGlite alike: messages are written in
// the audited change's own transaction (a rollback leaves none), routed by event type and workspace,
// batched for bulk changes; the queue hands out only the oldest open message of a subject, and two
// claimers never hold the same message.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAuditRepo } from '../../src/audit/audit.repo.ts';
import { createAudit, type AuditEvent } from '../../src/audit/audit.ts';
import { createSecretBox } from '../../src/security/secretbox.ts';
import { createTransactions } from '../../src/storage/transactions.ts';
import { createOutbox } from '../../src/webhooks/outbox.ts';
import { createWebhookRepo } from '../../src/webhooks/webhook.repo.ts';
import { generateSecret } from '../../src/webhooks/signing.ts';
import { migratedEmbedded, migratedPostgres, testSecret, type OpenStore } from '../support/stores.ts';
import { requireReal } from '../support/env.ts';

requireReal();

/** Users imported in one bulk change, for the batching check. */
const BULK_USERS = 5000;

const STORES: Array<[string, () => Promise<OpenStore>]> = [['postgres', migratedPostgres], ['embedded', migratedEmbedded]];

describe.each(STORES)('webhook outbox on %s', (_kind, open) => {
  let store: OpenStore;
  let repo: ReturnType<typeof createWebhookRepo>;
  let outbox: ReturnType<typeof createOutbox>;
  let audit: ReturnType<typeof createAudit>;
  let transactions: ReturnType<typeof createTransactions>;
  const box = createSecretBox(testSecret(), 'test');
  const knex = () => store.db.knex;

  const endpoint = async (events: string[], workspaceId: string | null = null) => {
    const row = await repo.insertEndpoint({ id: randomUUID(), url: 'https://example.com/hook', events, workspace_id: workspaceId, secret_encrypted: box.seal(generateSecret()), description: '' });
    await outbox.refresh();
    return row;
  };
  const messagesOf = (endpointId: string) => knex()('webhook_messages').where({ endpoint_id: endpointId }).orderBy('seq');
  const userUpdated = (userId: string, fields = ['name']): AuditEvent => ({ type: 'user.updated', subjectId: userId, actorId: userId, data: { fields, source: 'user' } });

  beforeAll(async () => {
    store = await open();
    repo = createWebhookRepo(store.db.knex);
    outbox = createOutbox(repo);
    audit = createAudit(createAuditRepo(store.db.knex), [outbox.sink]);
    transactions = createTransactions(store.db.knex);
  });
  afterAll(async () => { await store?.dispose(); });

  it('writes nothing when no endpoint is registered', async () => {
    await outbox.refresh();
    await audit.record(userUpdated(randomUUID()));
    const [{ n }] = await knex()('webhook_messages').count({ n: '*' }) as Array<{ n: string | number }>;
    expect(Number(n)).toBe(0);
  });

  it('a change that rolls back leaves no message; one that commits leaves exactly one', async () => {
    const ep = await endpoint(['user.updated']);
    const user = randomUUID();
    await expect(transactions.run(async (tx) => {
      await audit.record(userUpdated(user), tx);
      throw new Error('the change failed after its audit event');
    })).rejects.toThrow('the change failed');
    expect(await messagesOf(ep.id)).toHaveLength(0);

    await transactions.run(async (tx) => { await audit.record(userUpdated(user, ['name', 'picture']), tx); });
    const [m, ...rest] = await messagesOf(ep.id);
    expect(rest).toHaveLength(0);
    expect(m).toMatchObject({ event_type: 'user.updated', subject: `user:${user}`, status: 'pending', attempts: 0 });
    expect(m.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(m.payload).toEqual({ type: 'user.updated', timestamp: expect.any(String), data: { user_id: user, fields: ['name', 'picture'], source: 'user' } });
    await repo.deleteEndpoint(ep.id);
  });

  it('routes by event type and by workspace; events no webhook fires write nothing', async () => {
    const all = await endpoint(['*']);
    const onlyDeleted = await endpoint(['user.deleted']);
    const ws = randomUUID();
    const ofWorkspace = await endpoint(['*'], ws);
    const user = randomUUID();
    await audit.recordMany([
      { type: 'signin.succeeded', subjectId: user, data: { amr: ['pwd'] } },
      { type: 'password.changed', subjectId: user, actorId: user },
      { type: 'workspace.member_added', subjectId: user, data: { workspace_id: ws, role: 'member' } },
      { type: 'workspace.member_added', subjectId: user, data: { workspace_id: randomUUID(), role: 'member' } },
      { type: 'user.deleted', subjectId: user, data: { email: 'gone@example.com' } },
    ]);
    expect((await messagesOf(all.id)).map((m) => m.event_type)).toEqual(['user.password_changed', 'workspace.member_added', 'workspace.member_added', 'user.deleted']);
    expect((await messagesOf(onlyDeleted.id)).map((m) => m.payload.data)).toEqual([{ user_id: user }]); // no email: never more than the catalog lists
    expect((await messagesOf(ofWorkspace.id)).map((m) => m.payload.data)).toEqual([{ workspace_id: ws, user_id: user, role: 'member' }]);
    for (const e of [all, onlyDeleted, ofWorkspace]) await repo.deleteEndpoint(e.id);
  });

  it('an endpoint disabled or removed since the list was loaded gets nothing, and the change still commits', async () => {
    const ep = await endpoint(['user.updated']);
    await repo.updateEndpoint(ep.id, { enabled: false }); // straight in the table: the outbox's list is stale
    const gone = await endpoint(['user.updated']);
    await knex()('webhook_endpoints').where({ id: gone.id }).delete();
    await transactions.run(async (tx) => { await audit.record(userUpdated(randomUUID()), tx); });
    expect(await messagesOf(ep.id)).toHaveLength(0);
    await repo.deleteEndpoint(ep.id);
  });

  it(`fans a bulk change of ${BULK_USERS} users out in batches, in the same transaction`, async () => {
    const ep = await endpoint(['user.created']);
    const events: AuditEvent[] = Array.from({ length: BULK_USERS }, () => ({ type: 'user.created', subjectId: randomUUID(), data: { source: 'import' } }));
    const started = performance.now();
    await transactions.run(async (tx) => { await audit.recordMany(events, tx); });
    const ms = performance.now() - started;
    const rows = await messagesOf(ep.id);
    expect(rows).toHaveLength(BULK_USERS);
    expect(rows.map((r) => r.payload.data.user_id)).toEqual(events.map((e) => e.subjectId)); // in order
    process.stdout.write(`[webhooks] ${_kind}: ${BULK_USERS} users imported with one endpoint in ${ms.toFixed(0)} ms (audit + outbox)\n`);
    await repo.deleteEndpoint(ep.id);
  });

  it('hands out only the oldest open message of a subject, and the next once it is done', async () => {
    const ep = await endpoint(['*']);
    const [a, b] = [randomUUID(), randomUUID()];
    await audit.recordMany([userUpdated(a, ['name']), userUpdated(b), userUpdated(a, ['email'])]);
    const first = await repo.claimDue(10, 60);
    expect(first.map((m) => m.payload.data)).toEqual([
      { user_id: a, fields: ['name'], source: 'user' }, { user_id: b, fields: ['name'], source: 'user' },
    ]);
    expect(await repo.claimDue(10, 60)).toEqual([]); // a's second waits for its first

    // a's first is retried later: the second still waits
    const aFirst = first.find((m) => m.subject === `user:${a}`)!;
    await repo.finishAttempt(aFirst, { status: 'pending', nextAttemptAt: new Date(Date.now() + 60_000), statusCode: 500, error: 'HTTP 500' });
    expect(await repo.claimDue(10, 60)).toEqual([]);
    // given up: the next one goes
    await knex()('webhook_messages').where({ id: aFirst.id }).update({ status: 'failed' });
    const next = await repo.claimDue(10, 60);
    expect(next.map((m) => m.payload.data.fields)).toEqual([['email']]);
    expect(next[0]!.attempts).toBe(1);
    // a claim that lost its lease records nothing
    expect(await repo.finishAttempt({ id: next[0]!.id, claim: randomUUID() }, { status: 'delivered', statusCode: 200, error: null })).toBe(false);
    await repo.deleteEndpoint(ep.id);
  });

  it('gives back the messages of a claimer whose lease ran out', async () => {
    const ep = await endpoint(['*']);
    await audit.record(userUpdated(randomUUID()));
    const [m] = await repo.claimDue(10, 0.2);
    expect(m).toBeDefined();
    expect(await repo.claimDue(10, 60)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    const [again] = await repo.claimDue(10, 60);
    expect(again!.id).toBe(m!.id);
    expect(again!.attempts).toBe(2);
    expect(await repo.finishAttempt(m!, { status: 'delivered', statusCode: 200, error: null })).toBe(false); // the first claimer is too late
    expect(await repo.finishAttempt(again!, { status: 'delivered', statusCode: 200, error: null })).toBe(true);
    await repo.deleteEndpoint(ep.id);
  });

  it('prunes delivered messages and old attempts after the retention period, never open ones', async () => {
    const ep = await endpoint(['*']);
    await audit.recordMany([userUpdated(randomUUID()), userUpdated(randomUUID())]);
    const [done] = await repo.claimDue(1, 60);
    await repo.finishAttempt(done!, { status: 'delivered', statusCode: 200, error: null });
    await knex()('webhook_messages').where({ endpoint_id: ep.id }).update({ created_at: knex().raw("now() - interval '30 days'") });
    await repo.prune(14);
    expect((await messagesOf(ep.id)).map((m) => m.status)).toEqual(['pending']);
    await repo.deleteEndpoint(ep.id);
  });
});

describe('two claimers on one Postgres', () => {
  let store: OpenStore;
  beforeAll(async () => { store = await migratedPostgres(); });
  afterAll(async () => { await store?.dispose(); });

  it('never hold the same message', async () => {
    const repo = createWebhookRepo(store.db.knex);
    const outbox = createOutbox(repo);
    const box = createSecretBox(testSecret(), 'test');
    await repo.insertEndpoint({ id: randomUUID(), url: 'https://example.com/hook', events: ['*'], workspace_id: null, secret_encrypted: box.seal(generateSecret()), description: '' });
    await outbox.refresh();
    const audit = createAudit(createAuditRepo(store.db.knex), [outbox.sink]);
    await audit.recordMany(Array.from({ length: 400 }, () => ({ type: 'user.enabled', subjectId: randomUUID() })));
    const seen = new Map<string, number>();
    const claimer = async () => {
      for (;;) {
        const batch = await repo.claimDue(16, 60);
        if (batch.length === 0) return;
        for (const m of batch) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
      }
    };
    await Promise.all([claimer(), claimer(), claimer(), claimer()]);
    expect(seen.size).toBe(400);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});
