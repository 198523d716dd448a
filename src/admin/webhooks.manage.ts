// What the admin API, the console and the operator CLI do with webhook endpoints, over the engine's
// service (src/webhooks/webhook.service.ts, which validates, audits each change in its transaction
// with the actor given here, and keeps the secret encrypted): workspaces named by id or slug, the
// workspace shown by name, the delivery log as one shape everywhere. The signing secret appears in
// the answers of create() and rotateSecret() only.
import type { WebhookOrigin, WebhookService, EndpointView } from '../webhooks/webhook.service.ts';
import type { DeliveryRow } from '../webhooks/webhook.repo.ts';
import type { AttemptOutcome } from '../webhooks/delivery.ts';
import { WEBHOOK_EVENTS, ALL_EVENTS } from '../webhooks/events.ts';
import type { WorkspaceRepo } from '../workspaces/workspace.repo.ts';
import { parseRef } from '../workspaces/workspace.service.ts';
import { notFound } from '../errors/app-error.ts';

/** The same bounds as the engine's schema: the edge refuses sooner, with the same words. */
export const MAX_URL = 2048;
export const MAX_DESCRIPTION = 200;
/** More than the catalog has: a list longer than this is a mistake, not a subscription. */
export const MAX_EVENTS = 100;

export interface WorkspaceLabel { id: string; slug: string | null; name: string | null }
export type EndpointOut = EndpointView & { workspace: WorkspaceLabel | null };

export interface DeliveryOut {
  id: string; at: string; message_id: string; event_type: string; attempt: number;
  status_code: number | null; latency_ms: number; error: string | null; next_retry_at: string | null;
  response_excerpt: string | null; message_status: string;
}

export interface TestOut { ok: boolean; message_id: string | null; status_code: number | null; latency_ms: number; error: string | null; response_excerpt: string | null }

export interface EndpointFields { url?: string; events?: string[]; workspace?: string | null; description?: string }

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
export const deliveryOut = (d: DeliveryRow): DeliveryOut => ({
  id: String(d.id), at: iso(d.at)!, message_id: d.message_id, event_type: d.event_type, attempt: d.attempt,
  status_code: d.status_code, latency_ms: d.latency_ms, error: d.error, next_retry_at: iso(d.next_attempt_at),
  response_excerpt: d.response_excerpt, message_status: d.message_status,
});

const testOut = (o: AttemptOutcome): TestOut => ({
  ok: o.delivered, message_id: o.message_id, status_code: o.status_code, latency_ms: o.latency_ms, error: o.error, response_excerpt: o.response_excerpt,
});

export interface WebhookAdminDeps {
  webhooks: WebhookService;
  workspaces: Pick<WorkspaceRepo, 'findWorkspace'>;
}

export function createWebhookAdmin(deps: WebhookAdminDeps) {
  const { webhooks, workspaces } = deps;

  /** A workspace id or slug as the engine stores it (its id); unknown: 404 in the caller's words. */
  async function workspaceId(ref: string | null | undefined): Promise<string | null | undefined> {
    if (ref === undefined || ref === null) return ref;
    const ws = await workspaces.findWorkspace(parseRef(ref));
    if (!ws) throw notFound(`No workspace "${ref.slice(0, 100)}".`, 'workspace_not_found');
    return ws.id;
  }

  async function label(id: string | null, cache = new Map<string, Promise<WorkspaceLabel>>()): Promise<WorkspaceLabel | null> {
    if (!id) return null;
    if (!cache.has(id)) {
      cache.set(id, workspaces.findWorkspace({ id }).then((w) => ({ id, slug: w?.slug ?? null, name: w?.name ?? null })));
    }
    return cache.get(id)!;
  }
  const out = async (e: EndpointView, cache?: Map<string, Promise<WorkspaceLabel>>): Promise<EndpointOut> => ({ ...e, workspace: await label(e.workspace_id, cache) });

  async function fields(input: EndpointFields) {
    const { workspace, ...rest } = input;
    const id = await workspaceId(workspace);
    return { ...rest, ...(id !== undefined ? { workspace_id: id } : {}) };
  }

  return {
    /** The catalog as a picker shows it: `*` first, then every type with what fires it. */
    eventTypes(): Array<{ type: string; description: string }> {
      return WEBHOOK_EVENTS.map((s) => ({ type: s.type, description: s.summary }));
    },
    async list(): Promise<EndpointOut[]> {
      const cache = new Map<string, Promise<WorkspaceLabel>>();
      return Promise.all((await webhooks.list()).map((e) => out(e, cache)));
    },
    async show(id: string): Promise<EndpointOut> { return out(await webhooks.get(id)); },
    async create(input: EndpointFields & { url: string; events: string[] }, origin: WebhookOrigin): Promise<EndpointOut & { secret: string }> {
      const { endpoint, secret } = await webhooks.create(await fields(input) as Parameters<WebhookService['create']>[0], origin);
      return { ...await out(endpoint), secret };
    },
    async update(id: string, patch: EndpointFields, origin: WebhookOrigin): Promise<EndpointOut> {
      return out(await webhooks.update(id, await fields(patch), origin));
    },
    async remove(id: string, origin: WebhookOrigin): Promise<{ deleted: string }> {
      await webhooks.remove(id, origin);
      return { deleted: id };
    },
    async rotateSecret(id: string, origin: WebhookOrigin): Promise<{ id: string; secret: string }> {
      const { endpoint, secret } = await webhooks.rotateSecret(id, origin);
      return { id: endpoint.id, secret };
    },
    async enable(id: string, origin: WebhookOrigin): Promise<EndpointOut> { return out(await webhooks.enable(id, origin)); },
    async disable(id: string, origin: WebhookOrigin): Promise<EndpointOut> { return out(await webhooks.disable(id, origin)); },
    async test(id: string): Promise<TestOut> { return testOut(await webhooks.sendTest(id)); },
    async deliveries(id: string, page: { limit: number; offset: number }): Promise<{ total: number; limit: number; offset: number; deliveries: DeliveryOut[] }> {
      const { total, deliveries } = await webhooks.deliveriesFor(id, page);
      return { total, limit: page.limit, offset: page.offset, deliveries: deliveries.map(deliveryOut) };
    },
    async replay(id: string, opts: { since?: Date }, origin: WebhookOrigin): Promise<{ replayed: number }> {
      return { replayed: await webhooks.replay(id, origin, opts.since) };
    },
    /** Messages still waiting for the endpoint: what deleting it drops (the console says how many). */
    async openMessages(id: string): Promise<number> {
      const [pending, delivering] = await Promise.all([
        webhooks.messagesFor(id, { limit: 1, offset: 0, status: 'pending' }),
        webhooks.messagesFor(id, { limit: 1, offset: 0, status: 'delivering' }),
      ]);
      return pending.total + delivering.total;
    },
  };
}
export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>;
/** `*`: every event type, including types added later. */
export { ALL_EVENTS };
