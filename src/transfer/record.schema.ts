// One user of an import or export file (JSON Lines, CSV or a JSON array): what it may carry, checked
// once. Unknown fields are an error, never silently dropped: a misspelt `email_verifed` would
// otherwise import every user as unverified without a word.
import { z } from 'zod';
import { emailSchema } from '../accounts/email.ts';
import { isUuid } from '../accounts/account.repo.ts';
import { nameSchema, roleSchema, slugSchema } from '../workspaces/workspace.schema.ts';

const CONTROL = /\p{Cc}/u;
const text = (max: number) => z.string().trim().max(max, `at most ${max} characters`)
  .refine((s) => !CONTROL.test(s), 'must not contain control characters');
const optionalText = (max: number) => text(max).nullable().optional();

/** Global roles: short lower-case words (`admin`, `support`, `billing:read`). */
const roleName = z.string().regex(/^[a-z0-9][a-z0-9_:.-]{0,63}$/, 'a role is 1–64 lower-case letters, digits and _ : . -');

export const uuidSchema = z.string().trim().refine(isUuid, 'must be a UUID').transform((s) => s.toLowerCase());

/** RFC 4648 base32, as authenticator apps take it; at least 80 bits (RFC 4226 asks for 128, recommends 160). */
export const totpSecretSchema = z.string().transform((s) => s.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase())
  .refine((s) => /^[A-Z2-7]{16,128}$/.test(s), 'totp_secret must be base32 (A–Z, 2–7), 16 to 128 characters');

const workspaceEntry = z.strictObject({
  id: uuidSchema.optional(),
  slug: slugSchema.transform((s) => s.toLowerCase()),
  name: nameSchema.optional(),
  role: roleSchema.default('member'),
});

const identityEntry = z.strictObject({
  provider: z.string().min(1).max(63),
  subject: z.string().min(1, 'subject is required').max(255).refine((s) => !CONTROL.test(s), 'must not contain control characters'),
  email: z.string().max(320).nullable().optional(),
});

/** Keycloak's credential may come as an object instead of its JSON string; both are kept as the JSON string. */
const keycloakCredential = z.looseObject({ credentialData: z.unknown(), secretData: z.unknown() }).transform((o) => JSON.stringify(o));

export const importRecordSchema = z.strictObject({
  id: uuidSchema.optional(),
  email: emailSchema,
  email_verified: z.boolean().optional(),
  name: optionalText(200),
  given_name: optionalText(200),
  family_name: optionalText(200),
  picture: z.url({ protocol: /^https?$/, message: 'picture must be an http(s) URL' }).max(2048).nullable().optional(),
  locale: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'locale must be a language tag such as en or pt-BR').nullable().optional(),
  created_at: z.iso.datetime({ offset: true, message: 'created_at must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z' })
    .or(z.iso.date({ message: 'created_at must be an ISO 8601 date-time' })).optional(),
  disabled: z.boolean().optional(),
  password_hash: z.union([z.string().min(1).max(4096), keycloakCredential]).nullable().optional(),
  roles: z.array(roleName).max(50).optional(),
  workspaces: z.array(workspaceEntry).max(200).optional(),
  identities: z.array(identityEntry).max(50).optional(),
  totp_secret: totpSecretSchema.nullable().optional(),
});
export type ImportRecord = z.output<typeof importRecordSchema>;

/** The fields a record may have, in the order export writes them (the CSV header). */
export const RECORD_FIELDS = Object.keys(importRecordSchema.shape) as Array<keyof ImportRecord>;

/** One readable sentence for a record that does not fit, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const path = issue.path.join('.');
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    return path ? `${path}: ${message}` : message;
  }).join('; ');
}
