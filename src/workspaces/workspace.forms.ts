// The hosted workspace pages' input (/account/workspaces…), as zod schemas. `guard` checks only the
// shape (form fields are text, a missing one is empty); the field rules below then give each field
// its own message, a key under `workspaces:errors.` shown next to that field in the page's language.
// The services check the same rules again (workspace.schema.ts): the pages add words, not rules.
import { z } from 'zod';
import { isPlausibleEmail } from '../accounts/email.ts';
import { isUuid } from '../accounts/account.repo.ts';
import { ROLES } from './roles.ts';
import { isSlug, parseWorkspaceRef } from './workspace.schema.ts';

const text = z.string().default('');
const CONTROL = /\p{Cc}/u;

/** A workspace named in the path: an id or a slug (anything else is simply "not found"). */
const ref = z.string().max(100).refine((v) => parseWorkspaceRef(v) !== undefined);
const uuid = z.string().refine(isUuid);

export const workspaceForms = {
  workspace: { params: z.object({ ref }) },
  member: { params: z.object({ ref, userId: uuid }) },
  invitation: { params: z.object({ ref, id: uuid }) },
  create: { body: z.object({ name: text, slug: text }) },
  rename: { body: z.object({ name: text }) },
  role: { body: z.object({ role: text }) },
  invite: { body: z.object({ email: text, role: text }) },
  switch: { body: z.object({ workspace_id: z.string().max(100).default('') }) },
  /** ?notice=<key> after a change, ?switched after a switch: only keys travel in the URL */
  list: { query: z.object({ switched: z.unknown().optional().transform((v) => typeof v === 'string'), notice: z.unknown().optional() }) },
};

const name = z.string().trim().min(1, 'nameRequired').max(100, 'nameTooLong').refine((s) => !CONTROL.test(s), 'nameInvalid');
const role = z.enum(ROLES, { message: 'roleInvalid' });

/** The checks with a message per field (each message is a key under `workspaces:errors.`). */
export const fieldRules = {
  create: z.object({ name, slug: z.string().trim().toLowerCase().refine(isSlug, 'slugInvalid') }),
  rename: z.object({ name }),
  role: z.object({ role }),
  invite: z.object({
    email: z.string().trim().min(1, 'emailRequired').max(254, 'emailInvalid').refine(isPlausibleEmail, 'emailInvalid'),
    role,
  }),
};

export type FieldErrors = Record<string, string>;

/** The first problem of each field, as catalog keys: { slug: 'workspaces:errors.slugInvalid' }. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    out[field] ??= `workspaces:errors.${issue.message}`;
  }
  return out;
}

/** The notices a page may show after a change, by key (never text from the URL). */
export const NOTICE_KEYS = ['created', 'renamed', 'roleChanged', 'removed', 'left', 'invited', 'revoked'] as const;
export type WorkspaceNotice = (typeof NOTICE_KEYS)[number];
export const isNoticeKey = (v: unknown): v is WorkspaceNotice => typeof v === 'string' && (NOTICE_KEYS as readonly string[]).includes(v);
