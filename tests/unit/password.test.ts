import { describe, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import {
  ARGON2_OPTIONS, burnVerifyTime, checkPasswordPolicy, hashPassword, needsRehash, verifyPassword,
  PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_PROBLEM_TEXT,
} from '../../src/accounts/password.ts';
import { normalizeEmail } from '../../src/accounts/email.ts';
import { argon2Params, OWASP_ARGON2 } from '../support/stores.ts';

describe('password hashing (argon2id, OWASP parameters)', () => {
  it('encodes argon2id v=19 with m=19456 (19 MiB), t=2, p=1 in the hash string', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$(?=[^$]*\bm=19456\b)(?=[^$]*\bt=2\b)(?=[^$]*\bp=1\b)[mtp=0-9,]+\$[^$]+\$[^$]+$/);
    expect(argon2Params(hash)).toEqual(OWASP_ARGON2);
    expect(ARGON2_OPTIONS).toMatchObject({ type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('verifies the right password only; a malformed hash never verifies', async () => {
    const hash = await hashPassword('pässwörd ünïcode ✓');
    expect(await verifyPassword(hash, 'pässwörd ünïcode ✓')).toBe(true);
    expect(await verifyPassword(hash, 'pässwörd ünïcode')).toBe(false);
    expect(await verifyPassword('not a hash', 'anything')).toBe(false);
    expect(await verifyPassword('', '')).toBe(false);
  });

  it('needsRehash: false for our parameters, true for weaker ones', async () => {
    expect(needsRehash(await hashPassword('a password'))).toBe(false);
    const weak = await argon2.hash('a password', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(await verifyPassword(weak, 'a password')).toBe(true); // still accepted, then upgraded
  });

  it('burnVerifyTime resolves whatever the password', async () => {
    await expect(burnVerifyTime('anything')).resolves.toBeUndefined();
    await expect(burnVerifyTime('')).resolves.toBeUndefined();
  });
});

describe('password policy (NIST SP 800-63B)', () => {
  it('at least 8 and at most 256 characters', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(8);
    expect(PASSWORD_MAX_LENGTH).toBe(256);
    expect(checkPasswordPolicy('')).toBe('too_short');
    expect(checkPasswordPolicy('a'.repeat(7))).toBe('too_short');
    expect(checkPasswordPolicy('xk4vq9zt')).toBeUndefined(); // 8, and not a known password
    expect(checkPasswordPolicy('a'.repeat(8))).toBe('common'); // 8, but on the breached list
    expect(checkPasswordPolicy('q'.repeat(256))).toBeUndefined();
    expect(checkPasswordPolicy('a'.repeat(257))).toBe('too_long');
  });

  it('counts code points, not UTF-16 units', () => {
    const emoji = '😀'; // two UTF-16 units, one code point
    expect(emoji.repeat(4).length).toBe(8);
    expect(checkPasswordPolicy(emoji.repeat(4))).toBe('too_short');
    expect(checkPasswordPolicy(emoji.repeat(8))).toBeUndefined();
    expect(checkPasswordPolicy(emoji.repeat(256))).toBeUndefined(); // 512 units, 256 code points
    expect(checkPasswordPolicy(emoji.repeat(257))).toBe('too_long');
  });

  it('refuses a password containing the email or its local part (case-insensitive)', () => {
    const email = 'Alice.Smith@Example.com';
    expect(checkPasswordPolicy('my alice.smith@example.com pw', email)).toBe('contains_email');
    expect(checkPasswordPolicy('ALICE.SMITH-2024', email)).toBe('contains_email');
    expect(checkPasswordPolicy('a perfectly fine passphrase', email)).toBeUndefined();
    // a local part shorter than 4 characters is too common to forbid
    expect(checkPasswordPolicy('bob-is-my-uncle', 'bob@example.com')).toBeUndefined();
    expect(checkPasswordPolicy('xx bob@example.com', 'bob@example.com')).toBe('contains_email');
    expect(checkPasswordPolicy('alice.smith rocks')).toBeUndefined(); // no email given
  });

  it('length comes before the email check, and every problem has a sentence', () => {
    expect(checkPasswordPolicy('alice', 'alice@example.com')).toBe('too_short');
    for (const text of Object.values(PASSWORD_PROBLEM_TEXT)) expect(text).toMatch(/^[A-Z].+\.$/);
    expect(PASSWORD_PROBLEM_TEXT.too_short).toContain('8');
  });
});

describe('email normalisation', () => {
  it('NFKC, trimmed, lower-cased', () => {
    expect(normalizeEmail('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(normalizeEmail('ａｌｉｃｅ＠ｅｘａｍｐｌｅ.com')).toBe('alice@example.com');
    expect(normalizeEmail('ﬁnn@example.com')).toBe('finn@example.com'); // the ﬁ ligature
  });
});

describe('common and breached passwords', () => {
  it('refuses the top of the shipped list, case-insensitively, and says why', async () => {
    const { breachedListSize } = await import('../../src/accounts/breached.ts');
    expect(breachedListSize()).toBeGreaterThanOrEqual(100_000);
    for (const p of ['password', 'Password1', 'iloveyou', '12345678', 'qwertyuiop']) expect(checkPasswordPolicy(p)).toBe('common');
    expect(checkPasswordPolicy('correct horse battery staple')).toBeUndefined();
    expect(PASSWORD_PROBLEM_TEXT.common).toMatch(/common|breached/);
  });
});

describe('email addresses', () => {
  it('accepts internationalised addresses and normalises case and Unicode', async () => {
    const { isPlausibleEmail, normalizeEmail } = await import('../../src/accounts/email.ts');
    expect(isPlausibleEmail('josé@exämple.com')).toBe(true);
    expect(isPlausibleEmail('a.b+tag@example.co.uk')).toBe(true);
    for (const bad of ['plain', '@example.com', 'a@', 'a@b', 'a b@example.com', 'a@exa mple.com', 'a..b@example.com', 'a@-x.com', '<a>@example.com']) {
      expect(isPlausibleEmail(bad)).toBe(false);
    }
    expect(normalizeEmail(' ＡＤＡ@Example.COM ')).toBe('ada@example.com');
  });
});
