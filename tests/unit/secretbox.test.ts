import { describe, expect, it } from '@jest/globals';
import { createSecretBox, deriveKey } from '../../src/security/secretbox.ts';

const SECRET = 'a-master-secret-of-at-least-32-characters!';

/** Flips one bit of the base64url part `index` (1 = iv, 2 = tag, 3 = body) of a sealed value. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0]! ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secretbox (AES-256-GCM under an HKDF-derived key)', () => {
  const box = createSecretBox(SECRET, 'client secrets');

  it.each(['', 'hello', 'ünïcødé ✓ 😀', 'x'.repeat(10_000), JSON.stringify({ kty: 'EC', d: 'secret' })])(
    'round-trips %#', (plaintext) => {
      expect(box.open(box.seal(plaintext))).toBe(plaintext);
    },
  );

  it('seals as v1.<iv>.<tag>.<body>, with a fresh IV each time, never the plaintext', () => {
    const a = box.seal('the same secret');
    const b = box.seal('the same secret');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('the same secret');
    expect(box.open(b)).toBe('the same secret');
  });

  it.each([[1, 'iv'], [2, 'tag'], [3, 'body']])('throws when the %s part (%s) is tampered with', (index) => {
    const sealed = box.seal('do not touch');
    expect(() => box.open(tamper(sealed, index as number))).toThrow();
  });

  it('throws on an unknown version or a malformed value', () => {
    const [, iv, tag, body] = box.seal('x').split('.');
    expect(() => box.open(['v2', iv, tag, body].join('.'))).toThrow(/unsupported/);
    expect(() => box.open('v1.onlytwo')).toThrow(/unsupported/);
    expect(() => box.open('')).toThrow();
  });

  it('a box for another purpose, or under another secret, cannot open it', () => {
    const sealed = box.seal('scoped');
    expect(() => createSecretBox(SECRET, 'signing keys').open(sealed)).toThrow();
    expect(() => createSecretBox(`${SECRET}-other`, 'client secrets').open(sealed)).toThrow();
    expect(createSecretBox(SECRET, 'client secrets').open(sealed)).toBe('scoped'); // same secret and purpose: yes
  });

  it('deriveKey is deterministic, 32 bytes by default, and separates purposes', () => {
    expect(deriveKey(SECRET, 'a')).toHaveLength(32);
    expect(deriveKey(SECRET, 'a').equals(deriveKey(SECRET, 'a'))).toBe(true);
    expect(deriveKey(SECRET, 'a').equals(deriveKey(SECRET, 'b'))).toBe(false);
    expect(deriveKey(SECRET, 'a', 64)).toHaveLength(64);
  });
});
