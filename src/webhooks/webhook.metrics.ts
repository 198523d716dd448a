// Webhook metrics on the process's registry (GET /metrics): attempts by outcome, and, read from the
// outbox table when scraped, messages by state and the age of the oldest message not yet delivered
// (the number to alert on: it grows when receivers are down or delivery is stuck).
import client from 'prom-client';
import { metricsRegistry } from '../observability/metrics.ts';
import type { WebhookRepo } from './webhook.repo.ts';

const attempts = new client.Counter({
  name: 'gatehouse_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (delivered, retry, failed: given up).',
  labelNames: ['outcome'] as const, registers: [metricsRegistry],
});

let source: Pick<WebhookRepo, 'stats'> | undefined;
/** whether any endpoint is enabled: without one nothing is delivered, and a scrape reads nothing */
let active: () => boolean = () => true;
/** one read of the outbox per scrape, shared by both gauges */
let shared: { at: number; stats: ReturnType<WebhookRepo['stats']> } | undefined;
const SHARE_MS = 1000;
function stats(): ReturnType<WebhookRepo['stats']> | undefined {
  if (!source || !active()) return undefined;
  if (!shared || Date.now() - shared.at > SHARE_MS) shared = { at: Date.now(), stats: source.stats() };
  return shared.stats;
}

new client.Gauge({
  name: 'gatehouse_webhook_messages', help: 'Webhook messages in the outbox by state (pending, delivering, delivered, failed).',
  labelNames: ['status'] as const, registers: [metricsRegistry],
  async collect() {
    const read = stats();
    if (!read) { this.reset(); return; }
    const { counts } = await read.catch(() => ({ counts: undefined }));
    if (!counts) return;
    for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
  },
});
new client.Gauge({
  name: 'gatehouse_webhook_oldest_pending_seconds', help: 'Age of the oldest webhook message not yet delivered or given up (0: none).',
  registers: [metricsRegistry],
  async collect() {
    const read = stats();
    if (!read) { this.set(0); return; }
    const found = await read.catch(() => undefined);
    if (found) this.set(found.oldestOpen ? Math.max(0, (Date.now() - found.oldestOpen.getTime()) / 1000) : 0);
  },
});

export const webhookMetrics = {
  attempt(delivered: boolean, gaveUp: boolean): void {
    attempts.inc({ outcome: delivered ? 'delivered' : gaveUp ? 'failed' : 'retry' });
  },
  /** The server's outbox, read when /metrics is scraped while any endpoint is enabled (`isActive`). */
  watch(repo: Pick<WebhookRepo, 'stats'>, isActive: () => boolean = () => true): void { source = repo; active = isActive; shared = undefined; },
};
