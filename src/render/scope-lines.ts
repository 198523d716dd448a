// What each scope means in plain words, in the page's language: the consent page's lines
// (src/interactions/consent.ts) and the account "Apps" page's. The catalog is
// locales/<lang>/scopes.json, one key per scope, named `scopes:<scope>` with every ':' and '.' of
// the scope name replaced by '_' (i18next reads ':' as the namespace separator and '.' as nesting):
// `scopes:openid`, `scopes:offline_access`, `scopes:profile_write` for `profile:write`,
// `scopes:workspace_manage` for `workspace:manage`. A scope without a key of its own reads
// `scopes:other` ("Use the "x" permission"). Here, on the ground floor, so every page can use it.
import type { I18n, Translate } from './i18n.ts';

/** The catalog key of a scope's line (see above). */
export function scopeKey(scope: string): string {
  return `scopes:${scope.replace(/[:.]/g, '_')}`;
}

export interface ScopeLine { name: string; description: string }

/** A scope's line in `t`'s language; `product` is the brand's name (the admin scope names it). */
export function scopeLine(i18n: I18n, t: Translate, scope: string, product: string): ScopeLine {
  const key = scopeKey(scope).slice('scopes:'.length);
  const known = i18n.catalog('en', 'scopes');
  const own = key !== 'other' && Object.hasOwn(known, key) && typeof known[key] === 'string';
  return { name: scope, description: own ? t(`scopes:${key}`, { product }) : t('scopes:other', { scope }) };
}
