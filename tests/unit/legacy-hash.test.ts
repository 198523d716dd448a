// Imported password hashes (issue 15), each made by an independent implementation (Debian's Python:
// passlib, bcrypt, argon2-cffi, hashlib; see tests/support/legacy-hashes.ts), never by Gatehouse.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { isUnsaltedHash, parseLegacyHash, verifyLegacyHash } from '../../src/accounts/legacy-hash.ts';
import { needsRehash, verifyPassword } from '../../src/accounts/password.ts';
import { LEGACY_FORMATS, legacyHashes, type LegacyFormat } from '../support/legacy-hashes.ts';

const PASSWORD = 'pässwörd ✓ Tr0ub4dor&3';
const hashes = new Map<LegacyFormat, string>();

beforeAll(() => {
  const made = legacyHashes(LEGACY_FORMATS.map((f) => [f, PASSWORD] as const));
  LEGACY_FORMATS.forEach((f, i) => hashes.set(f, made[i]!));
});

describe('legacy password hashes', () => {
  it.each(LEGACY_FORMATS)('%s: recognised; the right password verifies, a wrong one and a near miss do not', async (format) => {
    const hash = hashes.get(format)!;
    const parsed = parseLegacyHash(hash);
    expect(parsed).toBeDefined();
    expect(parsed!.unsalted).toBe(['md5', 'sha1', 'sha256'].includes(format));
    expect(await verifyPassword(hash, PASSWORD)).toBe(true);
    expect(await verifyPassword(hash, `${PASSWORD} `)).toBe(false);
    expect(await verifyPassword(hash, PASSWORD.normalize('NFD'))).toBe(false); // bytes, not "looks the same"
    expect(needsRehash(hash)).toBe(true); // every imported hash is replaced at the next sign-in
  });

  it('names the format it detected', () => {
    const names = Object.fromEntries(LEGACY_FORMATS.map((f) => [f, parseLegacyHash(hashes.get(f)!)!.format]));
    expect(names).toMatchObject({
      argon2id: 'argon2id', argon2i: 'argon2i', argon2d: 'argon2d', 'bcrypt-2y': 'bcrypt',
      'passlib-pbkdf2-sha512': 'passlib-pbkdf2-sha512', 'django-bcrypt_sha256': 'django-bcrypt_sha256',
      'keycloak-pbkdf2-sha512': 'keycloak-pbkdf2-sha512', 'phc-scrypt': 'scrypt', md5: 'md5',
    });
  });

  it("Django's bcrypt_sha256 hashes the hex SHA-256, so a password past bcrypt's 72 bytes still counts", async () => {
    const long = 'x'.repeat(80);
    const [django, plain] = legacyHashes([['django-bcrypt_sha256', long], ['bcrypt-2b', long]]);
    expect(await verifyLegacyHash(django!, `${'x'.repeat(79)}y`)).toBe(false);
    expect(await verifyLegacyHash(plain!, `${'x'.repeat(79)}y`)).toBe(true); // plain bcrypt cuts at 72, as everywhere
  });

  it('Keycloak: the credential as JSON, with credentialData and secretData as objects or as JSON strings', async () => {
    const exported = JSON.parse(hashes.get('keycloak-pbkdf2-sha256')!) as { credentialData: string; secretData: string };
    const asObjects = JSON.stringify({ credentialData: JSON.parse(exported.credentialData), secretData: JSON.parse(exported.secretData) });
    expect(await verifyLegacyHash(asObjects, PASSWORD)).toBe(true);
    const otherAlg = JSON.stringify({ ...exported, credentialData: exported.credentialData.replace('pbkdf2-sha256', 'pbkdf2-sha512') });
    expect(await verifyLegacyHash(otherAlg, PASSWORD)).toBe(false);
  });

  it('refuses what it cannot verify safely: unknown forms, tampered parameters, costs past the bounds', async () => {
    const bad = [
      '', 'plain text password', '$1$saltsalt$abcdefghijklmnopqrstuv', // md5-crypt: not supported
      '$2b$31$' + 'a'.repeat(53), // bcrypt cost 31: hours per sign-in
      '$pbkdf2-sha256$999999999$c2FsdA$' + 'a'.repeat(43),
      '$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHQ$' + 'a'.repeat(43), // 4 GiB
      '$scrypt$ln=30,r=8,p=1$c2FsdA$' + 'a'.repeat(43),
      '{"credentialData":{"algorithm":"sha256","hashIterations":1},"secretData":{"value":"YQ==","salt":"YQ=="}}',
      '{not json', 'abc123', // short hex: not a digest length
    ];
    for (const hash of bad) {
      expect(parseLegacyHash(hash)).toBeUndefined();
      expect(await verifyPassword(hash, PASSWORD)).toBe(false);
    }
    const bcrypt = hashes.get('bcrypt-2b')!;
    expect(await verifyPassword(bcrypt.slice(0, -1) + (bcrypt.endsWith('a') ? 'b' : 'a'), PASSWORD)).toBe(false);
  });

  it('tells unsalted fast hashes apart (they need the operator\'s consent and a new password)', () => {
    expect(['md5', 'sha1', 'sha256'].every((f) => isUnsaltedHash(hashes.get(f as LegacyFormat)!))).toBe(true);
    expect(isUnsaltedHash(hashes.get('bcrypt-2b')!)).toBe(false);
  });
});
