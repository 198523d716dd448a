// /api/admin/resources in the OpenAPI document (src/api/openapi.ts).
import { MAX_RESOURCE_TTL, MIN_RESOURCE_TTL, RESOURCE_CLAIM_NAMES } from '../resources/resource.schema.ts';

const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const secured = { security: [{ bearer: ['admin'] }] };
const common = { 401: err('No, invalid, expired or foreign token'), 403: err('Not an admin (not_admin), or no admin scope (insufficient_scope)') };
const ref = [{
  name: 'ref', in: 'path', required: true, description: 'the resource\'s id, or its audience (URL-encoded)', schema: { type: 'string' },
}];

const fields = {
  name: { type: 'string', maxLength: 200 },
  claims: {
    type: 'array', items: { type: 'string', enum: RESOURCE_CLAIM_NAMES },
    description: 'user claims its JWT access tokens carry, each only when the user granted its scope (email: email, email_verified; profile: name, given_name, family_name, picture, locale; roles: roles; workspaces: workspaces). The active workspace\'s claims come with the workspace scope, always.',
  },
  scopes: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$' }, maxItems: 50, description: 'the API\'s own scopes (not Gatehouse\'s: openid, profile, email, roles, workspace, workspaces, offline_access, profile:write, workspace:manage, admin)' },
  ttl: { type: ['integer', 'null'], minimum: MIN_RESOURCE_TTL, maximum: MAX_RESOURCE_TTL, description: 'access token lifetime, seconds, at most GATEHOUSE_ACCESS_TOKEN_TTL; null: GATEHOUSE_ACCESS_TOKEN_TTL' },
  enabled: { type: 'boolean', description: 'false: asking for it is invalid_target, at refresh too' },
};

const resource = {
  type: 'object',
  properties: {
    id: { type: ['string', 'null'], format: 'uuid', description: 'null for a GATEHOUSE_RESOURCES entry' },
    audience: { type: 'string', format: 'uri' },
    ...fields,
    effective_ttl: { type: 'integer' },
    source: { type: 'string', enum: ['env', 'cli', 'api', 'console'] },
    shadowed: { type: 'boolean', description: 'GATEHOUSE_RESOURCES names the same audience: its entry is served' },
    created_at: { type: ['string', 'null'], format: 'date-time' },
    updated_at: { type: ['string', 'null'], format: 'date-time' },
  },
};
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const op = (summary: string, extra: Record<string, unknown>, ok: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  summary, ...secured, ...extra, responses: { ...ok, 400: err('Invalid input (invalid_resource)'), ...common, ...more },
});
const notFound = { 404: err('No such resource (resource_not_found)') };
const readOnly = { 409: err('Defined by GATEHOUSE_RESOURCES (env_resource): change the variable') };

export const RESOURCE_PATHS: Record<string, unknown> = {
  '/api/admin/resources': {
    get: op('List resources (APIs), GATEHOUSE_RESOURCES entries included', {}, { 200: { description: 'OK', ...json({ type: 'array', items: resource }) } }),
    post: op('Register a resource (API)', {
      requestBody: { required: true, ...json({ type: 'object', required: ['audience'], additionalProperties: false, properties: { audience: { type: 'string', format: 'uri', description: 'https (http://localhost outside production), no fragment' }, ...fields } }) },
    }, { 201: { description: 'Created', ...json(resource) } }, { 409: err('The audience exists already (resource_exists), or GATEHOUSE_RESOURCES names it (env_resource)') }),
  },
  '/api/admin/resources/{ref}': {
    get: op('Get a resource', { parameters: ref }, { 200: { description: 'OK', ...json(resource) } }, notFound),
    patch: op('Change a resource: what is not given stays; the next token uses the change', {
      parameters: ref, requestBody: { required: true, ...json({ type: 'object', additionalProperties: false, minProperties: 1, properties: fields }) },
    }, { 200: { description: 'OK', ...json(resource) } }, { ...notFound, ...readOnly }),
    delete: op('Remove a resource: asking for it is invalid_target from now on', { parameters: ref }, { 204: { description: 'Removed' } }, { ...notFound, ...readOnly }),
  },
};
