// OpenAPI 3.1 description of /api. Each domain adds its paths to PATHS.
const errorResponse = (description: string) => ({
  description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const PATHS: Record<string, unknown> = {
  '/api/me': {
    get: {
      summary: 'The signed-in user', security: [{ bearer: ['openid'] }],
      responses: { 200: { description: 'Profile', content: { 'application/json': { schema: { $ref: '#/components/schemas/Me' } } } }, 401: errorResponse('No or invalid token') },
    },
    patch: {
      summary: 'Change profile fields (partial)', security: [{ bearer: ['profile:write'] }],
      requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ProfilePatch' } } } },
      responses: { 200: { description: 'Updated profile' }, 400: errorResponse('Invalid or read-only field'), 401: errorResponse('No or invalid token'), 403: errorResponse('Missing scope profile:write (insufficient_scope, with WWW-Authenticate naming it)') },
    },
  },
};

export function addPaths(paths: Record<string, unknown>): void { Object.assign(PATHS, paths); }

/** The OpenAPI 3.1 top-level `webhooks`: what Gatehouse POSTs to registered endpoints, by event type. */
const WEBHOOKS: Record<string, unknown> = {};
export function addWebhooks(webhooks: Record<string, unknown>): void { Object.assign(WEBHOOKS, webhooks); }

export function openApiDocument(issuer: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse API', version: '1' },
    servers: [{ url: issuer }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Gatehouse access token (the kind userinfo accepts). Each operation lists the scopes it needs: openid to read /api/me, profile:write to change it, workspace to read workspaces and switch the active one, workspace:manage to create, rename or delete workspaces, members and invitations, admin (with the admin role) for /api/admin. A token without the scope gets 403 insufficient_scope.' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
        Me: { type: 'object', properties: {
          sub: { type: 'string', format: 'uuid' }, email: { type: 'string' }, email_verified: { type: 'boolean' }, name: { type: ['string', 'null'] },
          given_name: { type: ['string', 'null'] }, family_name: { type: ['string', 'null'] }, picture: { type: ['string', 'null'] },
          locale: { type: ['string', 'null'] }, roles: { type: 'array', items: { type: 'string' } },
        } },
        ProfilePatch: { type: 'object', additionalProperties: false, properties: {
          name: { type: ['string', 'null'], maxLength: 200 }, given_name: { type: ['string', 'null'] }, family_name: { type: ['string', 'null'] },
          picture: { type: ['string', 'null'], format: 'uri' }, locale: { type: ['string', 'null'] },
        } },
      },
    },
    paths: PATHS,
    webhooks: WEBHOOKS,
  };
}
