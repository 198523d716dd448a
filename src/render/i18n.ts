// The message catalogs of every hosted page and mail (locales/<language>/<namespace>.json), read
// once at boot into one i18next instance. Templates call `it.t` with a "namespace:key" and its variables; which language
// a request gets is decided in src/http/locale.ts (ui_locales, then the user's locale, then
// Accept-Language). Interpolated values are escaped by eta, not by i18next, so nothing is escaped twice.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n as I18next } from 'i18next';

const LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));

/** The languages Gatehouse ships complete; the first is the fallback. */
export const LANGUAGES = ['en', 'de', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

/** Each language's own name, for a list to choose from. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', de: 'Deutsch', fr: 'Français' };

export type Translate = (key: string, vars?: Record<string, unknown>) => string;

export interface I18n {
  languages: readonly Language[];
  namespaces: string[];
  /** A translator bound to one language. */
  translator(lang: Language): Translate;
  /** The raw catalogs (tests compare them key for key). */
  catalog(lang: Language, ns: string): Record<string, unknown>;
  /** Keys looked up that no catalog has, since boot (tests assert this stays empty). */
  missing(): string[];
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The best shipped language for a list of BCP 47 tags in order of preference ("de-CH" → "de"). */
export function pickLanguage(candidates: Iterable<string | undefined | null>): Language | undefined {
  for (const tag of candidates) {
    if (!tag) continue;
    const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
    if (isLanguage(primary)) return primary;
  }
  return undefined;
}

export function createI18n(): I18n {
  const namespaces = readdirSync(`${LOCALES_DIR}${DEFAULT_LANGUAGE}`).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  const resources: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const lang of LANGUAGES) {
    resources[lang] = {};
    for (const ns of namespaces) {
      let text = '{}';
      try { text = readFileSync(`${LOCALES_DIR}${lang}/${ns}.json`, 'utf8'); } catch { /* a missing file is caught by the catalog test */ }
      resources[lang][ns] = JSON.parse(text) as Record<string, unknown>;
    }
  }
  const missing = new Set<string>();
  const instance: I18next = i18next.createInstance();
  void instance.init({
    resources,
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: [...LANGUAGES],
    ns: namespaces,
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: '.',
    interpolation: { escapeValue: false }, // eta escapes what it prints
    returnNull: false,
    initAsync: false,
    showSupportNotice: false,
    saveMissing: true,
    missingKeyHandler: (lngs, ns, key) => { missing.add(`${lngs.join(',')}:${ns}:${key}`); },
  } as Parameters<I18next['init']>[0]);
  const fixed = new Map<Language, Translate>();
  for (const lang of LANGUAGES) {
    const t = instance.getFixedT(lang);
    fixed.set(lang, (key, vars) => t(key, vars as Record<string, unknown>) as string);
  }
  return {
    languages: LANGUAGES,
    namespaces,
    translator: (lang) => fixed.get(lang) ?? fixed.get(DEFAULT_LANGUAGE)!,
    catalog: (lang, ns) => resources[lang]?.[ns] ?? {},
    missing: () => [...missing],
  };
}
