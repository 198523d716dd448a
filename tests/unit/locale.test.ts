import { describe, expect, it } from '@jest/globals';
import { acceptLanguageTags, negotiateLanguage } from '../../src/http/locale.ts';
import { pickLanguage } from '../../src/render/i18n.ts';

describe('the language of a page', () => {
  it('reads Accept-Language by q value, dropping q=0 and *', () => {
    expect(acceptLanguageTags('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5')).toEqual(['fr-CH', 'fr', 'en', 'de']);
    expect(acceptLanguageTags('en;q=0.1, de')).toEqual(['de', 'en']);
    expect(acceptLanguageTags('de;q=0, fr')).toEqual(['fr']);
    expect(acceptLanguageTags(undefined)).toEqual([]);
    expect(acceptLanguageTags('garbage;;;q=x')).toEqual([]);
  });

  it('maps a regional tag to the shipped language and skips those not shipped', () => {
    expect(pickLanguage(['pt-BR', 'de-AT'])).toBe('de');
    expect(pickLanguage(['zh', undefined, ''])).toBeUndefined();
  });

  it('prefers ui_locales, then the user locale, then Accept-Language, then English', () => {
    expect(negotiateLanguage({ uiLocales: 'es fr-CA', userLocale: 'de', acceptLanguage: 'en' })).toBe('fr');
    expect(negotiateLanguage({ uiLocales: 'es', userLocale: 'de-DE', acceptLanguage: 'fr' })).toBe('de');
    expect(negotiateLanguage({ userLocale: 'ja', acceptLanguage: 'ja, fr;q=0.5' })).toBe('fr');
    expect(negotiateLanguage({ acceptLanguage: 'ja' })).toBe('en');
    expect(negotiateLanguage({})).toBe('en');
  });
});
