// The admin API in the OpenAPI document (src/api/openapi.ts).
const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const secured = { security: [{ bearer: ['admin'] }] };
const common = { 401: err('No, invalid, expired or foreign token'), 403: err('Not an admin (not_admin), or no admin scope (insufficient_scope)') };
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const op = (summary: string, extra: Record<string, unknown> = {}, ok = 'OK') => ({ summary, ...secured, ...extra, responses: { 200: { description: ok }, 400: err('Invalid input'), ...common, 404: err('Not found') } });

const withConflict = (o: ReturnType<typeof op>, why: string) => ({ ...o, responses: { ...o.responses, 409: err(why) } });

export const ADMIN_PATHS: Record<string, unknown> = {
  '/api/admin/users': {
    get: op('Search users (email or name), paginated', { parameters: [{ name: 'query', in: 'query', schema: { type: 'string', maxLength: 200 } }, ...pageParams] }),
    post: op('Create a user', { requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['email'], additionalProperties: false, properties: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, email_verified: { type: 'boolean' } } } } } } }, 'Created (201)'),
  },
  '/api/admin/users/{id}': {
    get: op('Get a user', { parameters: idParam }),
    patch: op('Update name, roles, mfa_required, email_verified', { parameters: idParam }),
    delete: op('Delete a user', { parameters: idParam }, 'Deleted (204)'),
  },
  '/api/admin/users/{id}/disable': { post: op('Disable: no sign-in, no tokens; sessions end', { parameters: idParam }) },
  '/api/admin/users/{id}/enable': { post: op('Enable a disabled user', { parameters: idParam }) },
  '/api/admin/users/{id}/reset-mfa': { post: op('Remove every second factor', { parameters: idParam }) },
  '/api/admin/users/{id}/revoke-sessions': { post: op('End every session and grant', { parameters: idParam }) },
  '/api/admin/users/{id}/sessions': { get: op('List live sessions', { parameters: idParam }) },
  '/api/admin/users/{id}/sessions/{uid}': { delete: op('End one session', { parameters: [...idParam, { name: 'uid', in: 'path', required: true, schema: { type: 'string' } }] }, 'Ended (204)') },
  '/api/admin/users/{id}/token': {
    post: op('Impersonate: a short-lived access token for the user with act: {sub: <admin>}', {
      parameters: idParam,
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 3, maxLength: 500 } } } } } },
    }, '{ access_token, token_type: "Bearer", expires_in }'),
  },
  '/api/admin/clients': { get: op('List clients'), post: op('Register a client', {}, 'Created (201), with client_secret once') },
  '/api/admin/clients/{id}': {
    get: op('Get a client', { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] }),
    patch: op('Update redirect URIs, grants, scopes, name, policies', { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] }),
    delete: op('Delete a client', { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] }, 'Deleted (204)'),
  },
  '/api/admin/clients/{id}/rotate-secret': { post: op('Issue a new client secret', { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] }) },
  '/api/admin/keys': { get: op('List signing keys') },
  '/api/admin/keys/rotate': {
    post: op('Rotate signing keys: publish new keys now; they sign after activate_in seconds (default GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS; 0 at once)', {
      requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { alg: { type: 'string', enum: ['RS256', 'ES256'] }, activate_in: { type: 'integer', minimum: 0 } } } } } },
    }, '{ rotated: [kid], activatesAt }'),
  },
  '/api/admin/keys/{kid}/revoke': {
    post: withConflict(op('Withdraw a key from the JWKS at once (a compromised key)', { parameters: [{ name: 'kid', in: 'path', required: true, schema: { type: 'string' } }] }, '{ revoked, alg, was }'),
      'last_signing_key: the key signs now; rotate with activate_in 0 first'),
  },
  '/api/admin/audit': {
    get: op('Audit events, newest first', { parameters: [
      ...['actor', 'subject', 'type'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
      ...['since', 'until'].map((name) => ({ name, in: 'query', schema: { type: 'string', format: 'date-time' } })), ...pageParams,
    ] }),
  },
};
