// The webhook endpoints of the admin API, and the OpenAPI 3.1 top-level `webhooks` section: every
// event type an endpoint can receive with its payload, generated from the engine's catalog
// (src/webhooks/events.ts), so the document cannot drift from what is sent.
import { TEST_EVENT_TYPE, WEBHOOK_EVENTS, type WebhookEventSpec } from '../webhooks/events.ts';

const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const secured = { security: [{ bearer: ['admin'] }] };
const common = { 401: err('No, invalid, expired or foreign token'), 403: err('Not an admin (not_admin), or no admin scope (insufficient_scope)') };
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];

const ENDPOINT = {
  type: 'object',
  required: ['id', 'url', 'events', 'workspace', 'enabled', 'created_at'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { type: 'string', format: 'uri' },
    description: { type: 'string' },
    events: { type: 'array', items: { type: 'string' }, description: "event types, or ['*'] for every type" },
    workspace: { type: ['object', 'null'], description: 'only events about this workspace; null: all', properties: { id: { type: 'string', format: 'uuid' }, slug: { type: ['string', 'null'] }, name: { type: ['string', 'null'] } } },
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'], description: 'why it was disabled (e.g. a day of failed deliveries)' },
    disabled_at: { type: ['string', 'null'], format: 'date-time' },
    failing_since: { type: ['string', 'null'], format: 'date-time', description: 'when the current run of failed deliveries began' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};
const WITH_SECRET = { allOf: [ENDPOINT, { type: 'object', required: ['secret'], properties: { secret: { type: 'string', pattern: '^whsec_', description: 'the signing secret: shown only in this answer' } } }] };
const DELIVERY = {
  type: 'object',
  properties: {
    id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, message_id: { type: 'string', description: 'the webhook-id header' },
    event_type: { type: 'string' }, attempt: { type: 'integer' }, status_code: { type: ['integer', 'null'] }, latency_ms: { type: 'integer' },
    error: { type: ['string', 'null'], description: 'timeout, connection refused, refused address …' },
    next_retry_at: { type: ['string', 'null'], format: 'date-time' },
    response_excerpt: { type: ['string', 'null'], description: 'the first bytes of the answer' },
    message_status: { type: 'string', enum: ['pending', 'delivering', 'delivered', 'failed'] },
  },
};
const newBody = {
  type: 'object', required: ['url', 'events'], additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri', maxLength: 2000 }, events: { type: 'array', minItems: 1, items: { type: 'string' } },
    workspace: { type: 'string', description: 'workspace id or slug' }, description: { type: 'string', maxLength: 500 },
  },
};
const patchBody = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { ...newBody.properties, workspace: { type: ['string', 'null'], description: 'workspace id or slug; null: every workspace' } },
};

const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];

const op = (summary: string, o: { params?: boolean; query?: unknown[]; body?: unknown; ok?: unknown; okStatus?: number; okText?: string } = {}) => ({
  summary, tags: ['webhooks'], ...secured,
  ...(o.params === false ? {} : { parameters: [...idParam, ...(o.query ?? [])] }),
  ...(o.body ? { requestBody: { required: true, content: json(o.body) } } : {}),
  responses: {
    [o.okStatus ?? 200]: { description: o.okText ?? 'OK', ...(o.ok ? { content: json(o.ok) } : {}) },
    400: err('Invalid input (unknown event type, a URL that is not allowed, …)'), ...common, 404: err('No such endpoint'),
  },
});

export const WEBHOOK_PATHS: Record<string, unknown> = {
  '/api/admin/webhooks': {
    get: op('List webhook endpoints with their status (never their secrets)', { params: false, ok: { type: 'object', properties: { endpoints: { type: 'array', items: ENDPOINT } } } }),
    post: op('Register a webhook endpoint; the answer carries its signing secret, once', { params: false, body: newBody, ok: WITH_SECRET, okStatus: 201, okText: 'Created' }),
  },
  '/api/admin/webhooks/event-types': {
    get: op('The event types an endpoint can subscribe to', { params: false, ok: { type: 'object', properties: { event_types: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, description: { type: 'string' } } } } } } }),
  },
  '/api/admin/webhooks/{id}': {
    get: op('Get a webhook endpoint', { ok: ENDPOINT }),
    patch: op('Change the URL, events, workspace or description', { body: patchBody, ok: ENDPOINT }),
    delete: op('Delete an endpoint, its pending messages and its delivery log', { okStatus: 204, okText: 'Deleted' }),
  },
  '/api/admin/webhooks/{id}/rotate-secret': {
    post: op('Issue a new signing secret (shown once); the old one stops signing at once', { ok: { type: 'object', properties: { id: { type: 'string' }, secret: { type: 'string' } } } }),
  },
  '/api/admin/webhooks/{id}/enable': { post: op('Enable an endpoint (e.g. one disabled after a day of failures); replay its failed messages with /replay', { ok: ENDPOINT }) },
  '/api/admin/webhooks/{id}/disable': { post: op('Stop delivering to an endpoint; its messages wait', { ok: ENDPOINT }) },
  '/api/admin/webhooks/{id}/test': {
    post: op(`Send a signed ping (type ${TEST_EVENT_TYPE}) now and report the answer`, {
      ok: { type: 'object', properties: { ok: { type: 'boolean' }, message_id: { type: 'string' }, status_code: { type: ['integer', 'null'] }, latency_ms: { type: 'integer' }, error: { type: ['string', 'null'] }, response_excerpt: { type: ['string', 'null'] } } },
    }),
  },
  '/api/admin/webhooks/{id}/deliveries': {
    get: op('The delivery log: one row per attempt, newest first', {
      query: pageParams,
      ok: { type: 'object', properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' }, deliveries: { type: 'array', items: DELIVERY } } },
    }),
  },
  '/api/admin/webhooks/{id}/replay': {
    post: op('Queue the endpoint\'s failed messages again (optionally only those since a time)', {
      body: { type: 'object', additionalProperties: false, properties: { since: { type: 'string', format: 'date-time' } } },
      ok: { type: 'object', properties: { replayed: { type: 'integer' } } },
    }),
  },
};

/** The Standard Webhooks headers every delivery carries. */
const HEADERS = {
  'webhook-id': { required: true, description: 'The message id (msg_…): the same on every retry of it; a receiver drops an id it has seen.', schema: { type: 'string' } },
  'webhook-timestamp': { required: true, description: 'Seconds since the epoch when this attempt was signed; refuse one far from now (replays).', schema: { type: 'string' } },
  'webhook-signature': { required: true, description: 'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` signatures.', schema: { type: 'string' } },
};

function payloadSchema(spec: Pick<WebhookEventSpec, 'type' | 'fields'>) {
  return {
    type: 'object', required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: spec.type },
      timestamp: { type: 'string', format: 'date-time', description: 'when the change happened' },
      data: { type: 'object', properties: Object.fromEntries(Object.entries(spec.fields).map(([k, d]) => [k, { description: d }])) },
    },
  };
}

/** The OpenAPI `webhooks` section: one POST per event type, as an endpoint receives it. */
export function webhookSection(): Record<string, unknown> {
  const ping = { type: TEST_EVENT_TYPE, summary: 'A test message sent on request (`gatehouse webhooks test`, the console\'s "Send test").', fields: {} as Record<string, string> };
  return Object.fromEntries([...WEBHOOK_EVENTS, ping].map((spec) => [spec.type, {
    post: {
      summary: spec.summary, tags: ['webhook events'],
      parameters: Object.entries(HEADERS).map(([name, h]) => ({ name, in: 'header', ...h })),
      requestBody: { required: true, content: json(payloadSchema(spec)) },
      responses: {
        '2XX': { description: 'Any 2xx: delivered.' },
        '4XX': { description: 'A 4xx other than 408, 409 and 429 is final: no retry.' },
        '5XX': { description: '5xx, 408, 409, 429 (Retry-After honoured), a timeout or a refused connection: retried with backoff for about a day.' },
      },
    },
  }]));
}
