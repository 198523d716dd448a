// Emails are unique after normalisation: Unicode NFKC, trimmed, lower-cased. We keep what the user
// typed for display and mail, and compare on the normalised form.
import { z } from 'zod';

export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

export const emailSchema = z.string().trim().max(254, 'That email address is too long.')
  .pipe(z.email({ message: 'Enter a valid email address.' }));
