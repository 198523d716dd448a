// The webhooks domain as the root builds it: the outbox first (the audit trail's sink needs it),
// then, over the audit trail, the address policy, the sender, the delivery loop and the service.
// docs/webhooks.md describes the whole; events.ts is the catalog.
import type { Logger } from 'pino';
import type { SecretBox } from '../security/secretbox.ts';
import type { Transactions } from '../storage/transactions.ts';
import { createAddressPolicy } from './address-policy.ts';
import { createDelivery } from './delivery.ts';
import type { Outbox } from './outbox.ts';
import { createSender } from './sender.ts';
import { createWebhookService, type WebhookAuditPort } from './webhook.service.ts';
import type { WebhookRepo } from './webhook.repo.ts';

export { createOutbox, WEBHOOK_ENDPOINTS_CHANNEL, type Outbox } from './outbox.ts';
export { createWebhookRepo, type WebhookRepo } from './webhook.repo.ts';
export { WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES, ALL_EVENTS, TEST_EVENT_TYPE, type WebhookEventSpec } from './events.ts';
export type { WebhookService, EndpointView, EndpointInput, EndpointPatch, WebhookOrigin } from './webhook.service.ts';
export type { Delivery, AttemptOutcome } from './delivery.ts';

export interface WebhookSettings {
  /** production rules for addresses (https, public only) */
  strict: boolean;
  allowCidrs: readonly string[];
  retrySchedule: readonly number[];
  disableAfterSeconds: number;
  timeoutSeconds: number;
  pollMs: number;
}

export interface WebhooksDeps {
  repo: WebhookRepo;
  outbox: Outbox;
  transactions: Transactions;
  box: SecretBox;
  audit: WebhookAuditPort;
  log: Logger;
}

export function createWebhooks(deps: WebhooksDeps, settings: WebhookSettings) {
  const policy = createAddressPolicy({ strict: settings.strict, allowCidrs: settings.allowCidrs });
  const timeoutMs = settings.timeoutSeconds * 1000;
  const sender = createSender(policy, timeoutMs);
  const delivery = createDelivery({
    repo: deps.repo, transactions: deps.transactions, box: deps.box, sender, log: deps.log,
    busy: () => deps.outbox.hasEndpoints(),
    settings: { retrySchedule: settings.retrySchedule, disableAfterSeconds: settings.disableAfterSeconds, pollMs: settings.pollMs, timeoutMs },
  });
  const webhooks = createWebhookService({
    repo: deps.repo, transactions: deps.transactions, box: deps.box, outbox: deps.outbox, policy, audit: deps.audit, delivery,
  });
  return { webhooks, webhookDelivery: delivery, webhookPolicy: policy };
}
