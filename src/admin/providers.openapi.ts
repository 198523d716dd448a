// /api/admin/providers in the OpenAPI document (src/api/openapi.ts).
import { PROVIDER_KINDS, TOKEN_ENDPOINT_AUTH_METHODS } from '../upstream/presets.ts';
import { ORG_SYNC_ROLES } from '../upstream/provider.schema.ts';

const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const secured = { security: [{ bearer: ['admin'] }] };
const common = { 401: err('No, invalid, expired or foreign token'), 403: err('Not an admin (not_admin), or no admin scope (insufficient_scope)') };
const nameParam = [{ name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){1,62}$' } }];
const strings = (description: string) => ({ type: 'array', items: { type: 'string' }, description });

const settings = {
  display_name: { type: 'string', maxLength: 100, description: 'the button\'s name ("Continue with …"); default: the preset\'s, or the name' },
  issuer: { type: ['string', 'null'], format: 'uri', description: 'OpenID issuer (discovery); https (http only for loopback outside production); none for github' },
  client_id: { type: 'string', description: 'the client id Gatehouse was given upstream' },
  scopes: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'default: the preset\'s' },
  token_endpoint_auth_method: { type: 'string', enum: TOKEN_ENDPOINT_AUTH_METHODS, description: 'private_key_jwt: Gatehouse makes a key pair; register public_jwks upstream' },
  allow_signup: { type: 'boolean', description: 'a first upstream sign-in creates an account (default false)' },
  allowed_email_domains: strings('only emails at these domains may sign in through it (empty: any)'),
  trust_email_verified: { type: 'boolean', description: 'trust the upstream email_verified (automatic linking needs it); default per preset' },
  trust_mfa: { type: 'boolean', description: 'upstream amr/acr with a second factor satisfies require_mfa (default false)' },
  client_ids: strings('the apps that offer it (empty: all)'),
  logout_upstream: { type: 'boolean', description: 'signing out of Gatehouse signs out upstream too' },
  home_realm_domains: strings('emails at these domains go straight to this provider'),
  tenant: { type: ['string', 'null'], description: 'microsoft: tenant id or domain, or common / organizations / consumers' },
  tenants: strings('microsoft multi-tenant: the only tenant ids admitted (empty: any)'),
  hosted_domain: { type: ['string', 'null'], description: 'google: only this Workspace domain (hd)' },
  org_sync: {
    type: 'array', description: 'organisation-sync rules (docs/providers.md)',
    items: { type: 'object', required: ['claim', 'workspace'], additionalProperties: false, properties: {
      claim: { type: 'string', description: 'a claim or dotted path, e.g. groups, org.id' },
      value: { type: 'string', description: 'only this value (absent: every value)' },
      workspace: { type: 'string', description: 'a workspace slug, or a template with {value}' },
      role: { type: 'string', enum: ORG_SYNC_ROLES, default: 'member' },
      create_workspace: { type: 'boolean', default: false },
    } },
  },
  order: { type: 'integer', minimum: 0, maximum: 10000, description: 'button order, lower first (default 100)' },
  icon: { type: ['string', 'null'], description: 'an .svg or .png under /assets/ instead of the preset\'s icon' },
  endpoints: { type: 'object', additionalProperties: false, properties: Object.fromEntries(['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'emails_endpoint'].map((k) => [k, { type: 'string', format: 'uri' }])) },
  enabled: { type: 'boolean' },
};

const provider = {
  type: 'object',
  properties: {
    name: { type: 'string' }, kind: { type: 'string', enum: PROVIDER_KINDS }, ...settings,
    has_client_secret: { type: 'boolean' },
    public_jwks: { type: ['object', 'null'], description: 'private_key_jwt: the public key to register upstream' },
    callback_url: { type: 'string', format: 'uri', description: 'register this redirect URI upstream: {issuer}/providers/{name}/callback' },
    source: { type: 'string', enum: ['cli', 'api', 'console', 'file'] },
    created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' },
  },
};
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: unknown = provider) => ({ description, ...json(schema) });
const impact = { type: 'object', properties: { linked_users: { type: 'integer' }, only_through_provider: { type: 'integer', description: 'users with no password, passkey or other identity' } } };

export const PROVIDER_PATHS: Record<string, unknown> = {
  '/api/admin/providers': {
    get: { summary: 'List upstream identity providers (never a secret)', ...secured, responses: { 200: ok('Providers', { type: 'array', items: provider }), ...common } },
    post: {
      summary: 'Register an upstream provider: answers the callback URL to register upstream (and, for private_key_jwt, the public JWKS)', ...secured,
      requestBody: { required: true, ...json({ type: 'object', required: ['name', 'client_id'], additionalProperties: false, properties: {
        name: { type: 'string', description: 'stable: in the callback URL; never renamed' }, kind: { type: 'string', enum: PROVIDER_KINDS, default: 'oidc' },
        client_secret: { type: 'string', writeOnly: true }, ...settings,
      } }) },
      responses: { 201: ok('Created'), 400: err('invalid_provider'), ...common, 409: err('provider_exists') },
    },
  },
  '/api/admin/providers/{name}': {
    get: { summary: 'Get a provider', ...secured, parameters: nameParam, responses: { 200: ok('The provider'), ...common, 404: err('Not found') } },
    patch: {
      summary: 'Change a provider: what is not given stays; null clears a setting; name and kind never change', ...secured, parameters: nameParam,
      requestBody: { required: true, ...json({ type: 'object', additionalProperties: false, properties: {
        client_secret: { type: 'string', writeOnly: true }, rotate_key: { type: 'boolean', description: 'private_key_jwt: a new key pair' }, ...settings,
      } }) },
      responses: { 200: ok('The provider'), 400: err('invalid_provider'), ...common, 404: err('Not found') },
    },
    delete: {
      summary: 'Remove a provider and the identities linked through it', ...secured,
      parameters: [...nameParam, { name: 'force', in: 'query', schema: { type: 'string', enum: ['true', 'false'], default: 'false' }, description: 'remove even when users would be left with no way to sign in' }],
      responses: { 200: ok('Removed', { type: 'object', properties: { deleted: { type: 'string' }, ...impact.properties } }), ...common, 404: err('Not found'), 409: err('provider_in_use: users would be left with no way to sign in (the message says how many)') },
    },
  },
  '/api/admin/providers/{name}/impact': {
    get: { summary: 'How many users a removal touches', ...secured, parameters: nameParam, responses: { 200: ok('Counts', impact), ...common, 404: err('Not found') } },
  },
};
