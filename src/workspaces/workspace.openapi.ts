// OpenAPI 3.1 paths of the workspace API (added to /api/openapi.json by createWorkspaceApiRouter).
const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const ok = (description: string, schema: Record<string, unknown>) => ({ description, content: { 'application/json': { schema } } });
const jsonBody = (schema: Record<string, unknown>) => ({ required: true, content: { 'application/json': { schema } } });
/** Reading and switching need `workspace`; creating, renaming and deleting need `workspace:manage`. */
const security = [{ bearer: ['workspace'] }];
const manage = [{ bearer: ['workspace:manage'] }];

const ROLE = { type: 'string', enum: ['owner', 'admin', 'member'] };
const REF = { name: 'ref', in: 'path', required: true, description: 'workspace id (UUID) or slug', schema: { type: 'string' } };
const USER = { name: 'user_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const INVITATION = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

const Workspace = {
  type: 'object', required: ['id', 'slug', 'name'],
  properties: {
    id: { type: 'string', format: 'uuid' }, slug: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$' },
    name: { type: 'string', maxLength: 100 }, role: ROLE, active: { type: 'boolean' },
  },
};
const Member = {
  type: 'object',
  properties: { user_id: { type: 'string', format: 'uuid' }, email: { type: 'string' }, name: { type: ['string', 'null'] }, role: ROLE, joined_at: { type: 'string', format: 'date-time' } },
};
const Invitation = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' }, workspace_id: { type: 'string', format: 'uuid' }, email: { type: 'string' }, role: ROLE,
    status: { type: 'string', enum: ['pending', 'expired', 'accepted', 'revoked'] }, expires_at: { type: 'string', format: 'date-time' },
  },
};

const denied = {
  400: error('Malformed id, slug or body'), 401: error('No or invalid token'),
  403: error('Missing scope (insufficient_scope, with WWW-Authenticate naming it), not a member, or the role does not allow it'), 404: error('No such workspace, member or invitation'),
};

export const WORKSPACE_OPENAPI_PATHS: Record<string, unknown> = {
  '/api/workspaces': {
    get: { summary: 'My workspaces', security, responses: { 200: ok('Memberships', { type: 'object', properties: { workspaces: { type: 'array', items: Workspace } } }), 401: denied[401] } },
    post: {
      summary: 'Create a workspace; the caller becomes its owner', security: manage,
      requestBody: jsonBody({ type: 'object', required: ['slug', 'name'], additionalProperties: false, properties: { slug: Workspace.properties.slug, name: Workspace.properties.name } }),
      responses: { 201: ok('Created', Workspace), ...denied, 409: error('Slug taken') },
    },
  },
  '/api/workspaces/{ref}': {
    parameters: [REF],
    get: { summary: 'One workspace (members only)', security, responses: { 200: ok('Workspace', Workspace), ...denied } },
    patch: {
      summary: 'Rename (owner)', security: manage,
      requestBody: jsonBody({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: Workspace.properties.name } }),
      responses: { 200: ok('Renamed', Workspace), ...denied },
    },
    delete: { summary: 'Delete (owner)', security: manage, responses: { 200: ok('Deleted', { type: 'object', properties: { deleted: { type: 'string' } } }), ...denied } },
  },
  '/api/workspaces/{ref}/members': {
    parameters: [REF],
    get: { summary: 'Members (members only)', security, responses: { 200: ok('Members', { type: 'object', properties: { members: { type: 'array', items: Member } } }), ...denied } },
  },
  '/api/workspaces/{ref}/members/{user_id}': {
    parameters: [REF, USER],
    patch: {
      summary: 'Change a role (owners: any; admins: not owners, never to owner; the last owner stays)', security: manage,
      requestBody: jsonBody({ type: 'object', required: ['role'], additionalProperties: false, properties: { role: ROLE } }),
      responses: { 200: ok('Member', Member), ...denied, 409: error('The last owner cannot be demoted') },
    },
    delete: {
      summary: 'Remove a member, or leave (own user id)', security: manage,
      responses: { 200: ok('Removed', { type: 'object', properties: { removed: { type: 'string' } } }), ...denied, 409: error('The last owner cannot leave') },
    },
  },
  '/api/workspaces/{ref}/invitations': {
    parameters: [REF],
    get: { summary: 'Open invitations (owner, admin)', security, responses: { 200: ok('Invitations', { type: 'object', properties: { invitations: { type: 'array', items: Invitation } } }), ...denied } },
    post: {
      summary: 'Invite by email; the invitee gets a single-use link valid 7 days', security: manage,
      requestBody: jsonBody({ type: 'object', required: ['email'], additionalProperties: false, properties: { email: { type: 'string' }, role: ROLE } }),
      responses: { 201: ok('Invitation (the token is only in the mail)', Invitation), ...denied, 409: error('Already a member, or 200 open invitations'), 429: error('50 invitations in the last hour (Retry-After)') },
    },
  },
  '/api/workspaces/{ref}/invitations/{id}': {
    parameters: [REF, INVITATION],
    delete: { summary: 'Revoke an invitation (owner, admin)', security: manage, responses: { 200: ok('Revoked', Invitation), ...denied, 409: error('Already accepted or revoked') } },
  },
  '/api/invitations/accept': {
    post: {
      summary: 'Accept an invitation as the caller (whose email must be the invited one)', security: manage,
      requestBody: jsonBody({ type: 'object', required: ['token'], properties: { token: { type: 'string' } } }),
      responses: { 200: ok('Joined', { type: 'object', properties: { ok: { const: true }, workspace: Workspace } }), ...denied, 410: error('Used, revoked or expired') },
    },
  },
  '/api/me/active-workspace': {
    get: { summary: 'The active workspace', security, responses: { 200: ok('Active', { type: 'object', properties: { active_workspace: { type: ['string', 'null'] }, workspace: { oneOf: [Workspace, { type: 'null' }] } } }), 401: denied[401] } },
    post: {
      summary: 'Switch the active workspace; the next token refresh names it', security,
      requestBody: jsonBody({ type: 'object', required: ['workspace_id'], additionalProperties: false, properties: { workspace_id: { type: 'string', description: 'id or slug' } } }),
      responses: { 200: ok('Switched', { type: 'object', properties: { ok: { const: true }, active_workspace: { type: 'string', format: 'uuid' } } }), ...denied },
    },
  },
};
