// The transactional outbox: the audit trail's sink (src/audit/audit.ts AuditSink). For every audited
// event that fires a webhook (src/webhooks/events.ts), one message per matching enabled endpoint is
// written in the change's own transaction, so a change that rolls back sends nothing and a change
// that commits always does. Delivery happens later, off the request path (src/webhooks/delivery.ts).
//
// The hot path pays nothing it does not need: an event no webhook fires (a sign-in, a token) costs
// a Map look-up; a matching event routes against the endpoints held in memory and writes only its
// rows, in one INSERT … SELECT per batch (a bulk import of 100k users is 50 statements per endpoint
// list). The list is loaded once, reloaded at once after a change made here, and — for changes made
// on other nodes or by the CLI — when Postgres says the table changed (a trigger notifies
// WEBHOOK_ENDPOINTS_CHANNEL; src/server.ts listens). On the embedded default there is one process.
import type { Queryable } from '../storage/transactions.ts';
import { ALL_EVENTS, toWebhookEvent, type SourceEvent, type WebhookEvent } from './events.ts';
import { newMessageId } from './signing.ts';
import type { NewMessage, RoutingRow, WebhookRepo } from './webhook.repo.ts';

/** The channel the webhook_endpoints trigger notifies (migrations/20261205030000_webhooks.ts). */
export const WEBHOOK_ENDPOINTS_CHANNEL = 'gatehouse_webhook_endpoints';

export interface Outbox {
  /** The audit sink: writes the messages of `events` in `tx`. */
  sink(events: readonly SourceEvent[], tx: Queryable | undefined): Promise<void>;
  /** Reloads the endpoint list (after a change here, or a notification from another node). */
  refresh(): Promise<void>;
  /** False only when the list is loaded and no endpoint is enabled: nothing to deliver, no polling. */
  hasEndpoints(): boolean;
  /** Writes one message for one endpoint now (a test ping, a replayed event), in `tx`. */
  enqueue(endpointId: string, event: Pick<WebhookEvent, 'type' | 'subject' | 'data'>, tx?: Queryable): Promise<string>;
}

const wants = (ep: RoutingRow, e: WebhookEvent) =>
  (ep.events.includes(ALL_EVENTS) || ep.events.includes(e.type)) && (ep.workspace_id == null || ep.workspace_id === e.workspaceId);

export function createOutbox(repo: Pick<WebhookRepo, 'routing' | 'insertMessages'>): Outbox {
  let endpoints: RoutingRow[] | undefined;
  let loading: Promise<RoutingRow[]> | undefined;

  /** The first use loads in the caller's transaction: on the embedded store it is the one connection. */
  const current = async (tx: Queryable | undefined): Promise<RoutingRow[]> => endpoints ?? (endpoints = await repo.routing(tx));

  const message = (endpointId: string, e: Pick<WebhookEvent, 'type' | 'subject' | 'data'>, at: string): NewMessage => ({
    id: newMessageId(), endpoint_id: endpointId, event_type: e.type, subject: e.subject,
    payload: { type: e.type, timestamp: at, data: e.data },
  });

  return {
    async sink(events, tx) {
      const mapped: WebhookEvent[] = [];
      for (const event of events) {
        const w = toWebhookEvent(event);
        if (w) mapped.push(w);
      }
      if (mapped.length === 0) return;
      const list = await current(tx);
      if (list.length === 0) return;
      const at = new Date().toISOString();
      const rows: NewMessage[] = [];
      for (const e of mapped) for (const ep of list) if (wants(ep, e)) rows.push(message(ep.id, e, at));
      if (rows.length) await repo.insertMessages(rows, tx);
    },
    async refresh() {
      loading ??= repo.routing().finally(() => { loading = undefined; });
      endpoints = await loading;
    },
    hasEndpoints: () => endpoints === undefined || endpoints.length > 0,
    async enqueue(endpointId, event, tx) {
      const row = message(endpointId, event, new Date().toISOString());
      await repo.insertMessages([row], tx);
      return row.id;
    },
  };
}
