// The account pages' input, as zod schemas parsed at the edge (src/http/guard.ts). Form fields
// are text (src/http/body.ts refuses repeated or nested ones); a missing field is empty, so the
// handler answers with its own message on the form ("the two passwords are not the same").
import { z } from 'zod';

const text = z.string().default('');
/** an interaction's uid (oidc-provider's are 21 url-safe characters); anything else is no interaction */
export const interactionUid = z.string().regex(/^[A-Za-z0-9_-]{10,64}$/).optional().catch(undefined);

export const PROFILE_FIELDS = ['name', 'given_name', 'family_name', 'picture', 'locale'] as const;

export const accountForms = {
  /** POST /account/profile: each field at most once, as text (the rules on each are the profile's) */
  profile: { body: z.object(Object.fromEntries(PROFILE_FIELDS.map((k) => [k, z.string({ error: 'Send each field once, as text.' }).optional()])) as Record<typeof PROFILE_FIELDS[number], z.ZodOptional<z.ZodString>>) },
  password: { body: z.object({ current_password: text, new_password: text, confirm_password: text }) },
  email: { body: z.object({ email: text }) },
  /** a mailed code typed into a form */
  code: { body: z.object({ code: text }) },
  /** a mailed link: GET …?token= */
  link: { query: z.object({ token: text }) },
  /** GET /account/forgot?interaction=<uid>&email=<address>: the sign-in page's link (anything odd is dropped) */
  forgotLink: { query: z.object({ email: z.string().trim().max(320).catch('').default(''), interaction: interactionUid }) },
  forgot: { body: z.object({ email: text.transform((v) => v.trim()), interaction: interactionUid }) },
  reset: { body: z.object({ new_password: text, confirm_password: text }) },
  /** POST /account/security/passkeys (JSON from the page's script): the browser's answer and a name */
  passkey: { body: z.object({ response: z.unknown(), name: z.string().trim().optional().catch(undefined) }) },
  passkeyId: { params: z.object({ id: z.string() }) },
  sessionUid: { params: z.object({ uid: z.string() }) },
  grantId: { params: z.object({ grantId: z.string() }) },
};
