// The device flow's user code: an alphabet without look-alikes or vowels, shown in two groups,
// accepted however it is typed. The helpers must agree with what oidc-provider generates and looks
// up (its own generate/normalize, imported from the package, are the reference).
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error oidc-provider's helpers have no type declarations
import { generate, normalize } from 'oidc-provider/lib/helpers/user_codes.js';
import {
  USER_CODE_CHARSET, USER_CODE_CHARSET_NAME, USER_CODE_MASK, formatUserCode, isPlausibleUserCode, normalizeUserCode,
} from '../../src/oidc/user-code.ts';

const sample = (n: number): string[] => Array.from({ length: n }, () => generate(USER_CODE_CHARSET_NAME, USER_CODE_MASK) as string);

describe('user code format', () => {
  it('uses no digits, no O/I look-alikes and no vowels', () => {
    for (const c of ['0', 'O', '1', 'I']) expect(USER_CODE_CHARSET).not.toContain(c);
    expect(USER_CODE_CHARSET).not.toMatch(/[AEIOUY0-9]/);
    expect(new Set(USER_CODE_CHARSET).size).toBe(USER_CODE_CHARSET.length);
    expect(USER_CODE_CHARSET).toHaveLength(20);
  });

  it('is what the provider generates: two groups of four from the alphabet', () => {
    const pattern = new RegExp(`^[${USER_CODE_CHARSET}]{4}-[${USER_CODE_CHARSET}]{4}$`);
    const codes = sample(500);
    for (const code of codes) expect(code).toMatch(pattern);
    const used = new Set(codes.join('').replaceAll('-', ''));
    expect([...used].sort().join('')).toBe([...USER_CODE_CHARSET].sort().join('')); // every letter, nothing else
  });

  it('groups a normalised code as WDJB-MJHT', () => {
    expect(formatUserCode('WDJBMJHT')).toBe('WDJB-MJHT');
  });
});

describe('user code parsing', () => {
  it.each([
    ['WDJB-MJHT', 'WDJBMJHT'],
    ['wdjb-mjht', 'WDJBMJHT'],
    ['wdjbmjht', 'WDJBMJHT'],
    [' Wdjb mjht ', 'WDJBMJHT'],
    ['WDJB.MJHT', 'WDJBMJHT'],
  ])('reads %j as %s, as the provider does', (typed, expected) => {
    expect(normalizeUserCode(typed)).toBe(expected);
    expect(normalizeUserCode(typed)).toBe(normalize(typed));
  });

  it('round-trips every generated code through format and normalise', () => {
    for (const code of sample(100)) {
      expect(formatUserCode(normalizeUserCode(code.toLowerCase()))).toBe(code);
      expect(isPlausibleUserCode(code.toLowerCase().replace('-', ''))).toBe(true);
    }
  });

  it('rejects what cannot be a code', () => {
    for (const bad of ['', 'WDJB-MJH', 'WDJB-MJHTX', 'WDJB-MJH0', 'AEIO-UBCD', 'WDJB-MJH1']) expect(isPlausibleUserCode(bad)).toBe(false);
  });
});
