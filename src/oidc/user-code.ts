// The user code of the device flow (RFC 8628 §6.1): what a person reads off a terminal and types
// on a phone. oidc-provider generates it from CHARSET and MASK and normalises what is typed the
// way normalizeUserCode does; these helpers say the same in one place, for pages and tests.

/**
 * oidc-provider's `base-20` alphabet: consonants only, so no 0/O or 1/I mix-ups and no vowels to
 * spell words with. 20^8 ≈ 2.6·10^10 codes; with wrong guesses rate-limited (DEVICE_LIMITS) that
 * is far beyond RFC 8628 §5.1's guidance.
 */
export const USER_CODE_CHARSET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_CHARSET_NAME = 'base-20';
/** Two groups of four, shown as WDJB-MJHT. */
export const USER_CODE_MASK = '****-****';

const LENGTH = USER_CODE_MASK.split('*').length - 1;

/** What the provider looks up: upper case, separators and spaces removed ("wdjb mjht" → "WDJBMJHT"). */
export function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/\W/g, '');
}

/** The grouped form of a normalised code ("WDJBMJHT" → "WDJB-MJHT"). */
export function formatUserCode(normalized: string): string {
  const chars = [...normalized];
  return [...USER_CODE_MASK].map((p) => (p === '*' ? chars.shift() ?? '' : p)).join('');
}

/** Whether input, once normalised, could be a code we issued (a cheap check before any lookup). */
export function isPlausibleUserCode(input: string): boolean {
  const code = normalizeUserCode(input);
  return code.length === LENGTH && [...code].every((c) => USER_CODE_CHARSET.includes(c));
}
