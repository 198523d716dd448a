// The editable profile (name, picture, locale): one schema and one update, shared by the account
// API (PATCH /api/me) and the account page; the change and its audit event in one transaction.
import { z } from 'zod';
import type { AccountRepo, UserRow } from './account.repo.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { Transactions } from '../storage/transactions.ts';

const text = (max: number) => z.string().trim().max(max).transform((v) => v || null).nullable();
/** The editable fields and their rules; the edge parses with it (src/http/guard.ts, code `invalid_profile`). */
export const profilePatch = z.object({
  name: text(200),
  given_name: text(100),
  family_name: text(100),
  picture: z.url({ protocol: /^https$/, message: 'picture must be an https URL' }).max(2048).nullable(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag such as en or pt-BR').nullable(),
}).partial().strict();

export type ProfilePatch = z.output<typeof profilePatch>;
/** The error code of a profile that breaks the rules. */
export const INVALID_PROFILE = 'invalid_profile';

export function createProfileService(deps: { accounts: Pick<AccountRepo, 'update'>; audit: Audit; transactions: Transactions }) {
  return {
    async update(userId: string, patch: ProfilePatch, origin: Omit<AuditEvent, 'type' | 'subjectId' | 'data'>): Promise<UserRow> {
      return deps.transactions.run(async (tx) => {
        const row = await deps.accounts.update(userId, patch, tx);
        await deps.audit.record({ type: 'profile.updated', subjectId: userId, ...origin, data: { fields: Object.keys(patch) } }, tx);
        return row as UserRow;
      });
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
