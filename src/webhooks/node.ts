// What a server node runs for webhooks (src/server.ts starts it; the CLI never does): the outbox's
// endpoint list loaded before the first request and kept current for changes made on other nodes
// (`watch`: Postgres's notifications, given by the server; the embedded default is one process),
// the delivery loop, and the metrics that read the outbox when scraped.
import type { Delivery } from './delivery.ts';
import type { Outbox } from './outbox.ts';
import type { WebhookRepo } from './webhook.repo.ts';
import { webhookMetrics } from './webhook.metrics.ts';

export async function startWebhookNode(deps: {
  outbox: Outbox; delivery: Delivery; repo: WebhookRepo; onError(err: Error): void;
  /** calls `changed` whenever another node (or the CLI) may have changed the endpoints */
  watch?: (changed: () => void) => { stop(): Promise<void> };
}): Promise<{ stop(): Promise<void> }> {
  const watcher = deps.watch?.(() => { deps.outbox.refresh().catch(deps.onError); });
  await deps.outbox.refresh();
  webhookMetrics.watch(deps.repo, () => deps.outbox.hasEndpoints());
  deps.delivery.start();
  return {
    async stop() {
      await watcher?.stop();
      await deps.delivery.stop();
    },
  };
}
