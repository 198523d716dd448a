// Password hashing: argon2id with the OWASP Password Storage Cheat Sheet parameters. A stored hash
// made with other parameters is re-hashed at the next successful sign-in.
import argon2 from 'argon2';
import { isBreachedPassword } from './breached.ts';
import { verifyLegacyHash } from './legacy-hash.ts';

export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024, // 19 MiB (OWASP minimum for argon2id)
  timeCost: 2,
  parallelism: 1,
} as const;

/** NIST SP 800-63B: at least 8; we accept long passphrases and never truncate. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

/** Gatehouse's own hashes are argon2 PHC strings; anything else was imported (src/accounts/legacy-hash.ts). */
const isArgon2Phc = (hash: string): boolean => hash.startsWith('$argon2');

/**
 * One path for every stored form — our argon2id and imported hashes alike — so that a hash's
 * parameters are bounded before anything is spent on it (src/accounts/legacy-hash.ts).
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return verifyLegacyHash(hash, password); // never throws: a malformed stored hash never authenticates
}

/** True for argon2 with other parameters and for every imported legacy hash (re-hashed at the next sign-in). */
export function needsRehash(hash: string): boolean {
  if (!isArgon2Phc(hash)) return true;
  if (!hash.startsWith('$argon2id$')) return true; // argon2i/argon2d: node-argon2's check ignores the type
  try {
    return argon2.needsRehash(hash, ARGON2_OPTIONS);
  } catch {
    return true;
  }
}

/** Spend the same time for an unknown account as for a known one (no timing enumeration). */
let dummyHash: Promise<string> | undefined;
export async function burnVerifyTime(password: string): Promise<void> {
  dummyHash ??= hashPassword('gatehouse-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_email' | 'common';

export function checkPasswordPolicy(password: string, email?: string): PasswordProblem | undefined {
  const length = [...password].length; // count code points, not UTF-16 units
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  if (email) {
    const local = email.split('@')[0]!.toLowerCase();
    const lower = password.toLowerCase();
    if (lower.includes(email.toLowerCase()) || (local.length >= 4 && lower.includes(local))) return 'contains_email';
  }
  if (isBreachedPassword(password)) return 'common';
  return undefined;
}

export const PASSWORD_PROBLEM_TEXT: Record<PasswordProblem, string> = {
  too_short: `Use at least ${PASSWORD_MIN_LENGTH} characters.`,
  too_long: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  contains_email: 'Choose a password that does not contain your email address.',
  common: 'That password is one of the most common or breached passwords, so it is easy to guess. Choose another; a few unrelated words work well.',
};
