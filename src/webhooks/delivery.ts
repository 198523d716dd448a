// Delivery: every server node runs this loop (the CLI never does). It claims due messages from the
// outbox table, sends each once, and records the attempt, the message's next state and the
// endpoint's health in one transaction.
//
// Why our own table with FOR UPDATE SKIP LOCKED rather than pg-boss: the outbox row must be written
// in the change's transaction, and its order per subject kept through retries (message N+1 of a
// user waits while N is being retried). pg-boss has no per-key FIFO — its singleton/stately
// policies throttle a key but do not order it, and its retries reorder jobs — so we would still
// keep the order in our own table and use pg-boss only as a timer. And the embedded default is one
// PGlite connection behind knex: pg-boss's supervisor, maintenance and its separate schema would
// share that connection with every request. The queue here is one statement (claimDue in
// webhook.repo.ts) that behaves the same on Postgres and PGlite: SKIP LOCKED so nodes never wait
// for each other, a lease so a node that dies mid-send (SIGKILL) gives its messages back, and a
// claim token so a node whose lease ran out cannot record an outcome over another's.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SecretBox } from '../security/secretbox.ts';
import type { Transactions } from '../storage/transactions.ts';
import { verdict } from './retry.ts';
import type { Sender, SendResult } from './sender.ts';
import { newMessageId } from './signing.ts';
import type { ClaimedMessage, EndpointRow, WebhookRepo } from './webhook.repo.ts';
import type { WebhookEvent } from './events.ts';
import { webhookMetrics } from './webhook.metrics.ts';

export interface DeliverySettings {
  /** waits before attempts 2, 3, … in seconds (GATEHOUSE_WEBHOOK_RETRY_SCHEDULE) */
  retrySchedule: readonly number[];
  /** an endpoint failing this long is disabled (GATEHOUSE_WEBHOOK_DISABLE_AFTER_SECONDS) */
  disableAfterSeconds: number;
  /** how often an idle node looks for due messages (GATEHOUSE_WEBHOOK_POLL_MS) */
  pollMs: number;
  /** one request's deadline (GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS × 1000) */
  timeoutMs: number;
}

/** Messages one node claims at a time, and sends side by side. */
const CLAIM_BATCH = 16;
/**
 * A claim outlives the longest request twice over, plus the time to record it, so a live node
 * never loses a message it is sending; a dead node's messages are taken up again after it.
 */
const leaseSecondsFor = (timeoutMs: number) => Math.ceil((2 * timeoutMs) / 1000) + 5;

export interface AttemptOutcome {
  message_id: string;
  delivered: boolean;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  next_attempt_at: string | null;
}

export interface Delivery {
  /** Claims and sends one batch; how many messages it took. */
  runOnce(): Promise<number>;
  /** Starts the loop on this node. */
  start(): void;
  /** Stops the loop and waits for the requests in flight. */
  stop(): Promise<void>;
  /** Sends one event to one endpoint now, whatever its state, never retried (the test ping). */
  deliverNow(endpoint: EndpointRow, event: Pick<WebhookEvent, 'type' | 'subject' | 'data'>): Promise<AttemptOutcome>;
}

export interface DeliveryDeps {
  repo: WebhookRepo;
  transactions: Transactions;
  box: SecretBox;
  sender: Sender;
  settings: DeliverySettings;
  log: Logger;
  /** whether any endpoint is enabled (the outbox's list): when none is, the loop does not poll the database */
  busy?: () => boolean;
}

/** The body, fields in the documented order (jsonb does not keep key order). */
const bodyOf = (p: ClaimedMessage['payload']) => JSON.stringify({ type: p.type, timestamp: p.timestamp, data: p.data });

export function createDelivery(deps: DeliveryDeps): Delivery {
  const { repo, transactions, box, sender, settings, log } = deps;
  const leaseSeconds = leaseSecondsFor(settings.timeoutMs);
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const statusOf = (r: SendResult) => (r.kind === 'response' ? r.status : undefined);
  const errorOf = (r: SendResult) => (r.kind === 'error' ? r.error : r.status >= 200 && r.status < 300 ? null : `HTTP ${r.status}`);

  /** Records one attempt: the log line, the message's next state, the endpoint's health. */
  async function record(m: ClaimedMessage, result: SendResult, final: boolean, test = false): Promise<AttemptOutcome> {
    const status = statusOf(result);
    const v = final && status === undefined
      ? { kind: 'failed' as const, reason: errorOf(result)! }
      : verdict(m.attempts, { status, retryAfter: result.kind === 'response' ? result.retryAfter : undefined }, final ? [] : settings.retrySchedule);
    const delivered = v.kind === 'delivered';
    const next = v.kind === 'retry' ? new Date(Date.now() + v.afterMs) : undefined;
    const error = errorOf(result);
    const excerpt = result.kind === 'response' ? result.excerpt : null;
    let disabled = false;
    await transactions.run(async (tx) => {
      await repo.insertAttempt({
        message_id: m.id, endpoint_id: m.endpoint_id, attempt: m.attempts, status_code: status ?? null,
        latency_ms: result.latencyMs, response_excerpt: excerpt, error, next_attempt_at: next ?? null,
      }, tx);
      const owned = await repo.finishAttempt(m, {
        status: delivered ? 'delivered' : v.kind === 'retry' ? 'pending' : 'failed',
        nextAttemptAt: next, statusCode: status ?? null, error: v.kind === 'failed' ? v.reason : error,
      }, tx);
      if (!owned) log.warn({ message: m.id }, 'webhook lease ran out before the attempt was recorded; another node takes it up');
      if (test) return; // a ping says nothing about the endpoint's health
      if (delivered) await repo.markSucceeded(m.endpoint_id, tx);
      else disabled = await repo.markFailed(m.endpoint_id, settings.disableAfterSeconds,
        `every delivery failed for ${Math.round(settings.disableAfterSeconds / 3600)} h (last: ${error ?? 'no response'})`, tx);
    });
    if (!test) webhookMetrics.attempt(delivered, v.kind === 'failed');
    if (disabled) log.warn({ endpoint: m.endpoint_id }, 'webhook endpoint disabled after failing for too long');
    return {
      message_id: m.id, delivered, status_code: status ?? null, latency_ms: result.latencyMs, error,
      response_excerpt: excerpt, next_attempt_at: next?.toISOString() ?? null,
    };
  }

  async function send(m: ClaimedMessage, test = false): Promise<AttemptOutcome> {
    let secret: string;
    try {
      secret = box.open(m.secret_encrypted);
    } catch {
      // the master secret changed under the endpoint: nothing a retry can fix
      return record(m, { kind: 'error', error: 'the signing secret cannot be decrypted (GATEHOUSE_SECRET changed?): rotate it', latencyMs: 0 }, true, test);
    }
    const result = await sender.send({ url: m.url, secret, messageId: m.id, body: bodyOf(m.payload) });
    return record(m, result, test, test);
  }

  async function runOnce(): Promise<number> {
    const claimed = await repo.claimDue(CLAIM_BATCH, leaseSeconds);
    await Promise.all(claimed.map((m) => send(m).catch((err: Error) => {
      // the database failed while recording: the lease runs out and the message is sent again
      log.warn({ message: m.id, err: err.message }, 'webhook attempt not recorded');
    })));
    return claimed.length;
  }

  const pause = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(t); wake = undefined; resolve(); };
  });

  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let claimed = 0;
          try {
            if (deps.busy?.() !== false) claimed = await runOnce();
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'webhook delivery could not claim messages');
          }
          // a full loop goes again at once (a subject's next message, a backlog); an idle one waits
          if (running && claimed === 0) await pause(settings.pollMs);
        }
      })();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    async deliverNow(endpoint, event) {
      const claim = randomUUID();
      const id = newMessageId();
      const payload = { type: event.type, timestamp: new Date().toISOString(), data: event.data };
      await repo.insertClaimed({ id, endpoint_id: endpoint.id, event_type: event.type, subject: event.subject, payload }, claim, leaseSeconds);
      const m = { ...(await repo.findMessage(id))!, claim, url: endpoint.url, secret_encrypted: endpoint.secret_encrypted, failing_since: endpoint.failing_since } as ClaimedMessage;
      return send(m, true);
    },
  };
}
