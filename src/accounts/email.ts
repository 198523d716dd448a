// Emails are unique after normalisation: Unicode NFKC, trimmed, lower-cased. We keep what the user
// typed for display and mail, and compare on the normalised form. Internationalised addresses
// (RFC 6531: josé@exämple.com) are accepted.
import { z } from 'zod';

export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

const FORBIDDEN = /[\s<>()[\]\\,;:"@\p{Cc}]/u;
const MAX_LOCAL = 64; // RFC 5321 §4.5.3.1.1
const MAX_TOTAL = 254;

export function isPlausibleEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1 || value.length > MAX_TOTAL) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > MAX_LOCAL || FORBIDDEN.test(local) || FORBIDDEN.test(domain)) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => l.length > 0 && l.length <= 63 && !l.startsWith('-') && !l.endsWith('-'));
}

export const emailSchema = z.string().trim().max(MAX_TOTAL, 'That email address is too long.')
  .refine(isPlausibleEmail, 'Enter a valid email address.');
