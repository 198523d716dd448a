// The editable profile (name, picture, locale): one schema and one update, shared by the account
// API (PATCH /api/me) and the account page; the change and its audit event in one transaction.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { UserRow } from './account.repo.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import { badRequest } from '../errors/app-error.ts';

const text = (max: number) => z.string().trim().max(max).transform((v) => v || null).nullable();
export const profilePatch = z.object({
  name: text(200),
  given_name: text(100),
  family_name: text(100),
  picture: z.url({ protocol: /^https$/, message: 'picture must be an https URL' }).max(2048).nullable(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag such as en or pt-BR').nullable(),
}).partial().strict();

export type ProfilePatch = z.output<typeof profilePatch>;

/** Validated fields, or a 400 whose message names the field and the problem. */
export function parseProfilePatch(input: unknown): ProfilePatch {
  const parsed = profilePatch.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : `${issue.path.join('.')}: ${issue.message}`;
  throw badRequest(message, 'invalid_profile');
}

export async function updateProfile(knex: Knex, audit: Audit, userId: string, patch: ProfilePatch, origin: Omit<AuditEvent, 'type' | 'subjectId' | 'data'>): Promise<UserRow> {
  return knex.transaction(async (trx) => {
    const [row] = await trx('users').where({ id: userId }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
    await audit.record({ type: 'profile.updated', subjectId: userId, ...origin, data: { fields: Object.keys(patch) } }, trx);
    return row as UserRow;
  });
}
