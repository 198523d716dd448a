// What workspace input may contain, checked once at the edge (API, CLI, authorization parameter).
// A workspace is named by its id (a UUID) or its slug; a slug may never look like a UUID, so the
// two can't be confused.
import { z } from 'zod';
import { isUuid } from '../accounts/account.repo.ts';
import { ROLES } from './roles.ts';

/** Same pattern as the database's check constraint: a DNS label of 2–63 characters. */
const SLUG = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$/;
export const SLUG_RULE = 'a slug is 2–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit';
const NAME_MAX = 100;
const CONTROL = /\p{Cc}/u;

export const isSlug = (value: string): boolean => SLUG.test(value) && !isUuid(value);

/** A reference to a workspace as a caller may write it: an id, or a slug in any case. */
export function parseWorkspaceRef(value: unknown): { id: string } | { slug: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (isUuid(v)) return { id: v.toLowerCase() };
  const slug = v.toLowerCase();
  return isSlug(slug) ? { slug } : undefined;
}

export const slugSchema = z.string({ message: 'slug is required' }).trim()
  .refine((s) => isSlug(s), { message: `slug: ${SLUG_RULE}` });

export const nameSchema = z.string({ message: 'name is required' }).trim()
  .min(1, 'name is required').max(NAME_MAX, `name: at most ${NAME_MAX} characters`)
  .refine((s) => !CONTROL.test(s), 'name must not contain control characters');

export const roleSchema = z.enum(ROLES, { message: `role must be one of ${ROLES.join(', ')}` });

/** A request body is one JSON object of these fields and no others. */
const body = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { error: 'Send a JSON object.' }).strict();

export const createWorkspaceInput = body({ slug: slugSchema, name: nameSchema });
export const renameWorkspaceInput = body({ name: nameSchema });
export const changeRoleInput = body({ role: roleSchema });
export const inviteInput = body({ email: z.string({ message: 'email is required' }).max(320), role: roleSchema.default('member') });
export const activeWorkspaceInput = body({ workspace_id: z.string({ message: 'workspace_id is required (a workspace id or slug)' }).max(100) });
export const acceptInvitationInput = body({ token: z.string({ message: 'token is required' }).max(200) });

/** One sentence from the first problem. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.join(', ')}`;
  // messages that already name their field ("slug: …", "name is required") are not prefixed again
  const where = issue.path.length && !issue.message.startsWith(String(issue.path[0])) ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
