// The admin API's user import and export (src/admin/transfer.api.ts) in the OpenAPI document.
const err = (d: string) => ({ description: d, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const secured = { security: [{ bearer: ['admin'] }] };
const common = { 401: err('No, invalid, expired or foreign token'), 403: err('Not an admin (not_admin), or no admin scope (insufficient_scope)') };
const flag = (name: string, description: string) => ({ name, in: 'query', required: false, schema: { type: 'boolean', default: false }, description });

const RECORD = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  description: 'One user. Unknown fields are an error. See docs/migrating.md.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'kept as the user\'s sub' },
    email: { type: 'string' }, email_verified: { type: 'boolean' },
    name: { type: 'string' }, given_name: { type: 'string' }, family_name: { type: 'string' },
    picture: { type: 'string', format: 'uri' }, locale: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' }, disabled: { type: 'boolean' },
    password_hash: { type: 'string', description: 'verbatim from the old system (argon2, bcrypt, PBKDF2 in passlib/Django/Keycloak form, scrypt); Keycloak\'s credential as JSON' },
    roles: { type: 'array', items: { type: 'string' } },
    workspaces: { type: 'array', items: { type: 'object', required: ['slug'], properties: { id: { type: 'string', format: 'uuid' }, slug: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', enum: ['owner', 'admin', 'member'] } } } },
    identities: { type: 'array', items: { type: 'object', required: ['provider', 'subject'], properties: { provider: { type: 'string' }, subject: { type: 'string' }, email: { type: 'string' } } } },
    totp_secret: { type: 'string', description: 'base32' },
  },
};

const REPORT = {
  type: 'object',
  required: ['dry_run', 'atomic', 'total', 'created', 'updated', 'skipped', 'failed', 'workspaces_created', 'failures'],
  properties: {
    dry_run: { type: 'boolean' }, atomic: { type: 'boolean' }, total: { type: 'integer' },
    created: { type: 'integer' }, updated: { type: 'integer' }, skipped: { type: 'integer', description: 'already there (and, with update, unchanged)' },
    failed: { type: 'integer' }, workspaces_created: { type: 'integer' },
    failures: { type: 'array', items: { type: 'object', required: ['line', 'reason'], properties: { line: { type: 'integer', description: 'the line (JSON Lines, CSV) or position (JSON array, 1 = first)' }, id: { type: 'string' }, email: { type: 'string' }, reason: { type: 'string' } } } },
  },
};

export const TRANSFER_PATHS = {
  '/api/admin/users/import': {
    post: {
      tags: ['admin'], summary: 'Import users (bulk): the same as `gatehouse users import`', ...secured,
      description: 'At most 50 MiB a request (larger files: the CLI). One bad record never stops the rest unless atomic. Password hashes are kept verbatim and verified at the next sign-in.',
      parameters: [
        flag('update', 'update existing users (by id, else email) where the file differs'),
        flag('dry_run', 'check everything, report what would happen, write nothing'),
        flag('atomic', 'all or nothing'),
        flag('allow_unsalted_hashes', 'accept unsalted MD5/SHA-1/SHA-256 hashes (a new password is due at first sign-in)'),
      ],
      requestBody: {
        required: true,
        content: {
          'application/x-ndjson': { schema: { type: 'string', description: 'JSON Lines: one user object a line' } },
          'application/json': { schema: { type: 'array', items: RECORD } },
          'text/csv': { schema: { type: 'string', description: 'a header of field names; arrays and objects as JSON in their cell' } },
        },
      },
      responses: {
        200: { description: 'The report (also when records failed: see failed and failures)', content: { 'application/json': { schema: REPORT } } },
        400: err('A file that cannot be read at all (not JSON, an unknown CSV column)'), ...common,
        413: err('Larger than 50 MiB'), 415: err('Not JSON Lines, a JSON array or CSV'),
      },
    },
  },
  '/api/admin/users/export': {
    get: {
      tags: ['admin'], summary: 'Export every user in the import format', ...secured,
      parameters: [
        { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['jsonl', 'csv'], default: 'jsonl' } },
        flag('with_password_hashes', 'include password hashes (audited as users.exported)'),
        flag('with_totp_secrets', 'include TOTP secrets, decrypted (audited)'),
      ],
      responses: {
        200: { description: 'The file', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } },
        ...common,
      },
    },
  },
};
