// The operator's webhook operations (`gatehouse webhooks …`, src/cli/webhooks.ts): the same
// management layer as the admin API and console (src/admin/webhooks.manage.ts), audited with the
// operator as actor. Arguments come from the CLI or the control socket, so each is checked here.
import { badRequest } from '../errors/app-error.ts';
import type { WebhookAdmin, EndpointFields } from '../admin/webhooks.manage.ts';

export interface WebhookOperationDeps { webhookAdmin: WebhookAdmin }

type Args = Record<string, unknown>;

/** Changes made from the operator CLI carry no actor: they are the operator's, on the host. */
const OPERATOR_ORIGIN = { actorId: null, clientId: null, ip: null, userAgent: 'gatehouse CLI' };

const text = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`${name} is required`);
  return v.trim();
};
const id = (a: Args) => text(a.id, 'the endpoint id');
const list = (v: unknown): string[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest('events: a comma-separated list of event types');
  return v;
};
const whole = (v: unknown, name: string, min: number, max: number, fallback: number): number => {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};
function date(v: unknown): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const d = new Date(String(v));
  if (Number.isNaN(d.getTime())) throw badRequest('since must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z');
  return d;
}
function fields(a: Args): EndpointFields {
  const f: EndpointFields = {};
  if (a.url !== undefined) f.url = text(a.url, 'url');
  if (a.events !== undefined) f.events = list(a.events);
  if (a.workspace !== undefined) f.workspace = a.workspace === null ? null : text(a.workspace, 'workspace');
  if (a.description !== undefined) f.description = typeof a.description === 'string' ? a.description : '';
  return f;
}

export const webhookOperations: Record<string, (c: WebhookOperationDeps, args: Args) => Promise<unknown>> = {
  'webhooks.add': (c, a) => c.webhookAdmin.create({ ...fields(a), url: text(a.url, 'url'), events: list(a.events) }, OPERATOR_ORIGIN),
  'webhooks.list': (c) => c.webhookAdmin.list(),
  'webhooks.events': async (c) => c.webhookAdmin.eventTypes(),
  'webhooks.show': (c, a) => c.webhookAdmin.show(id(a)),
  'webhooks.update': (c, a) => {
    const f = fields(a);
    if (Object.keys(f).length === 0) throw badRequest('Name something to change: --url, --events, --workspace, --all-workspaces or --description.');
    return c.webhookAdmin.update(id(a), f, OPERATOR_ORIGIN);
  },
  'webhooks.remove': (c, a) => c.webhookAdmin.remove(id(a), OPERATOR_ORIGIN),
  'webhooks.rotate-secret': (c, a) => c.webhookAdmin.rotateSecret(id(a), OPERATOR_ORIGIN),
  'webhooks.enable': (c, a) => c.webhookAdmin.enable(id(a), OPERATOR_ORIGIN),
  'webhooks.disable': (c, a) => c.webhookAdmin.disable(id(a), OPERATOR_ORIGIN),
  'webhooks.test': (c, a) => c.webhookAdmin.test(id(a)),
  'webhooks.deliveries': (c, a) => c.webhookAdmin.deliveries(id(a), { limit: whole(a.limit, 'limit', 1, 100, 20), offset: whole(a.offset, 'offset', 0, 1_000_000, 0) }),
  'webhooks.replay': (c, a) => c.webhookAdmin.replay(id(a), { since: date(a.since) }, OPERATOR_ORIGIN),
};
