// What a server node runs for webhooks (src/server.ts starts it; the CLI never does): the outbox's
// endpoint list loaded before the first request and kept current for changes made on other nodes,
// the delivery loop, and the metrics that read the outbox when scraped.
import type { Delivery } from './delivery.ts';
import { ENDPOINT_REFRESH_MS, type Outbox } from './outbox.ts';
import type { WebhookRepo } from './webhook.repo.ts';
import { webhookMetrics } from './webhook.metrics.ts';

export async function startWebhookNode(deps: { outbox: Outbox; delivery: Delivery; repo: WebhookRepo; onError(err: Error): void }): Promise<{ stop(): Promise<void> }> {
  await deps.outbox.refresh();
  const timer = setInterval(() => { deps.outbox.refresh().catch(deps.onError); }, ENDPOINT_REFRESH_MS);
  timer.unref();
  webhookMetrics.watch(deps.repo);
  deps.delivery.start();
  return {
    async stop() {
      clearInterval(timer);
      await deps.delivery.stop();
    },
  };
}
