// The operator's webhook endpoints, shared by the CLI, the admin API and the console: each change
// and its audit event (webhook.*) in one transaction, the outbox's endpoint list reloaded after.
// The signing secret is returned by create() and rotateSecret() only; nothing else ever shows it.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../security/secretbox.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import { badRequest, notFound } from '../errors/app-error.ts';
import { UnsafeWebhookUrl, type AddressPolicy } from './address-policy.ts';
import { ALL_EVENTS, TEST_EVENT_TYPE, WEBHOOK_EVENT_TYPES } from './events.ts';
import type { Outbox } from './outbox.ts';
import { generateSecret } from './signing.ts';
import type { DeliveryRow, EndpointRow, MessageRow, MessageStatus, WebhookRepo } from './webhook.repo.ts';
import type { Delivery, AttemptOutcome } from './delivery.ts';

/** Who made a change (the audit event's origin): AdminOrigin and OPERATOR_ORIGIN fit. */

/** Where an endpoint points, for the audit trail: origin and path, never a query (it may hold a token). */
const urlForAudit = (raw: string) => { try { const u = new URL(raw); return `${u.origin}${u.pathname}`; } catch { return ''; } };

export interface WebhookOrigin { actorId?: string | null; clientId?: string | null; ip?: string | null; userAgent?: string | null }

/** The audit trail as this service uses it (src/audit/audit.ts Audit: webhooks sits below audit). */
export interface WebhookAuditPort {
  record(event: { type: string; data?: Record<string, unknown> } & WebhookOrigin, tx?: Queryable): Promise<void>;
}

/** An endpoint as the CLI, API and console show it: never the secret. */
export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  workspace_id: string | null;
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
export const endpointView = (e: EndpointRow): EndpointView => ({
  id: e.id, url: e.url, events: e.events, workspace_id: e.workspace_id, description: e.description,
  enabled: e.enabled, disabled_reason: e.disabled_reason, disabled_at: iso(e.disabled_at), failing_since: iso(e.failing_since),
  created_at: iso(e.created_at)!, updated_at: iso(e.updated_at)!,
});

const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION = 200;

const eventList = z.array(z.string().refine((t) => t === ALL_EVENTS || WEBHOOK_EVENT_TYPES.includes(t), {
  error: (i) => `unknown event type ${JSON.stringify(i.input)}: see docs/webhooks.md for the list, or use '*' for all`,
})).min(1, { error: 'Name at least one event type, or * for all.' }).transform((l) => [...new Set(l)]);

/** The fields of an endpoint an operator sets (the admin API validates its body with it too). */
export const endpointInput = z.object({
  url: z.string().trim().min(1).max(MAX_URL_LENGTH),
  events: eventList,
  workspace_id: z.uuid().nullable().optional(),
  description: z.string().trim().max(MAX_DESCRIPTION).optional(),
}).strict();
export const endpointPatch = endpointInput.partial().strict();
export type EndpointInput = z.input<typeof endpointInput>;
export type EndpointPatch = z.input<typeof endpointPatch>;

export interface WebhookServiceDeps {
  repo: WebhookRepo;
  transactions: Transactions;
  box: SecretBox;
  outbox: Outbox;
  policy: AddressPolicy;
  audit: WebhookAuditPort;
  /** sends test pings at once */
  delivery: Pick<Delivery, 'deliverNow'>;
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw badRequest(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return r.data;
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { repo, transactions, box, outbox, policy, audit } = deps;

  /** The URL's form and, at registration, where it resolves now (send time checks again). */
  async function checkUrl(raw: string): Promise<string> {
    try {
      const url = policy.checkUrl(raw);
      await policy.resolve(url);
      return url.toString();
    } catch (err) {
      if (err instanceof UnsafeWebhookUrl) throw badRequest(err.message, 'unsafe_url');
      throw err;
    }
  }

  async function endpoint(id: string, tx?: Queryable): Promise<EndpointRow> {
    const row = z.uuid().safeParse(id).success ? await repo.findEndpoint(id, tx) : undefined;
    if (!row) throw notFound(`no webhook endpoint ${id}`);
    return row;
  }

  const changed = async <T>(work: (tx: Queryable) => Promise<T>): Promise<T> => {
    const result = await transactions.run(work);
    await outbox.refresh();
    return result;
  };

  const event = (type: string, origin: WebhookOrigin, data: Record<string, unknown>) => ({ type, ...origin, data });

  return {
    /** Registers an endpoint; the secret is in the answer and nowhere else, ever. */
    async create(input: EndpointInput, origin: WebhookOrigin): Promise<{ endpoint: EndpointView; secret: string }> {
      const v = parse(endpointInput, input);
      const url = await checkUrl(v.url);
      const secret = generateSecret();
      const row = await changed(async (tx) => {
        const created = await repo.insertEndpoint({
          id: randomUUID(), url, events: v.events, workspace_id: v.workspace_id ?? null,
          secret_encrypted: box.seal(secret), description: v.description ?? '',
        }, tx);
        await audit.record(event('webhook.created', origin, { endpoint_id: created.id, url: urlForAudit(url), events: v.events, workspace_id: created.workspace_id }), tx);
        return created;
      });
      return { endpoint: endpointView(row), secret };
    },
    async list(): Promise<EndpointView[]> {
      return (await repo.listEndpoints()).map(endpointView);
    },
    async get(id: string): Promise<EndpointView> {
      return endpointView(await endpoint(id));
    },
    async update(id: string, patch: EndpointPatch, origin: WebhookOrigin): Promise<EndpointView> {
      const v = parse(endpointPatch, patch);
      const url = v.url === undefined ? undefined : await checkUrl(v.url);
      const row = await changed(async (tx) => {
        await endpoint(id, tx);
        const fields = Object.keys(v);
        const updated = await repo.updateEndpoint(id, {
          ...(url !== undefined ? { url } : {}),
          ...(v.events !== undefined ? { events: v.events } : {}),
          ...(v.workspace_id !== undefined ? { workspace_id: v.workspace_id } : {}),
          ...(v.description !== undefined ? { description: v.description } : {}),
        }, tx);
        if (!updated) throw notFound(`no webhook endpoint ${id}`);
        await audit.record(event('webhook.updated', origin, { endpoint_id: id, fields }), tx);
        return updated;
      });
      return endpointView(row);
    },
    async remove(id: string, origin: WebhookOrigin): Promise<void> {
      await changed(async (tx) => {
        const row = await endpoint(id, tx);
        await repo.deleteEndpoint(id, tx);
        await audit.record(event('webhook.deleted', origin, { endpoint_id: id, url: urlForAudit(row.url) }), tx);
      });
    },
    /** A new secret, effective for every message sent from now on (retries included). */
    async rotateSecret(id: string, origin: WebhookOrigin): Promise<{ endpoint: EndpointView; secret: string }> {
      const secret = generateSecret();
      const row = await changed(async (tx) => {
        await endpoint(id, tx);
        const updated = await repo.updateEndpoint(id, { secret_encrypted: box.seal(secret) }, tx);
        await audit.record(event('webhook.secret_rotated', origin, { endpoint_id: id }), tx);
        return updated!;
      });
      return { endpoint: endpointView(row), secret };
    },
    /** Enables an endpoint (a disabled one resumes its pending messages; failed ones need replay). */
    async enable(id: string, origin: WebhookOrigin): Promise<EndpointView> {
      const row = await changed(async (tx) => {
        await endpoint(id, tx);
        const updated = await repo.updateEndpoint(id, { enabled: true, disabled_at: null, disabled_reason: null, failing_since: null }, tx);
        await audit.record(event('webhook.enabled', origin, { endpoint_id: id }), tx);
        return updated!;
      });
      return endpointView(row);
    },
    /** Stops sending to an endpoint (and writing messages for it) until it is enabled again. */
    async disable(id: string, origin: WebhookOrigin, reason = 'disabled by an operator'): Promise<EndpointView> {
      const row = await changed(async (tx) => {
        await endpoint(id, tx);
        const updated = await repo.updateEndpoint(id, { enabled: false, disabled_at: new Date(), disabled_reason: reason }, tx);
        await audit.record(event('webhook.disabled', origin, { endpoint_id: id, reason }), tx);
        return updated!;
      });
      return endpointView(row);
    },
    /** Failed messages (since `since`) sent again, same ids, in their order; how many. */
    async replay(id: string, origin: WebhookOrigin, since?: Date): Promise<number> {
      return changed(async (tx) => {
        await endpoint(id, tx);
        const n = await repo.replayFailed(id, since, tx);
        await audit.record(event('webhook.replayed', origin, { endpoint_id: id, messages: n, since: since?.toISOString() }), tx);
        return n;
      });
    },
    /** The delivery log of an endpoint, newest first. */
    async deliveriesFor(id: string, page: { limit: number; offset: number }): Promise<{ total: number; deliveries: DeliveryRow[] }> {
      await endpoint(id);
      return repo.deliveries(id, page);
    },
    /** The messages of an endpoint (pending, delivered, failed), newest first. */
    async messagesFor(id: string, page: { limit: number; offset: number; status?: MessageStatus }): Promise<{ total: number; messages: MessageRow[] }> {
      await endpoint(id);
      return repo.messages(id, page);
    },
    /** Sends a `webhook.test` ping now (also to a disabled endpoint) and says how it went; logged, never retried. */
    async sendTest(id: string): Promise<AttemptOutcome> {
      const row = await endpoint(id);
      return deps.delivery.deliverNow(row, { type: TEST_EVENT_TYPE, subject: `test:${row.id}`, data: { endpoint_id: row.id } });
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
