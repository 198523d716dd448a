import { describe, expect, it } from '@jest/globals';
import { redactTokens } from '../../src/http/middleware.ts';

describe('a path refused before routing is logged without secrets', () => {
  it('replaces token-shaped segments and keeps the rest', () => {
    expect(redactTokens('/setup/q2D4Jx0bC9yT5uPz7LmNwR3sVa1Ke8Hf')).toBe('/setup/:redacted');
    expect(redactTokens('/account/reset/abcdefghijklmnop')).toBe('/account/reset/:redacted');
    expect(redactTokens('/account/security')).toBe('/account/security');
    expect(redactTokens('/')).toBe('/');
  });
});
