// Server-rendered pages and mail: eta templates from views/, escaped by default. Every template gets
// `it.t` (the message catalog in the page's language, src/render/i18n.ts), `it.lang`, `it.brand`
// (src/render/brand.ts) and `it.productName` (the brand's name).
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { DEFAULT_BRAND, type Brand } from './brand.ts';
import { createI18n, DEFAULT_LANGUAGE, isLanguage, type I18n, type Language } from './i18n.ts';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface PageData {
  title: string;
  csrf?: string;
  /** The language to render in (src/http/locale.ts decides); English without it. */
  lang?: Language | string;
  [key: string]: unknown;
}

export interface Views {
  render(template: string, data: PageData): string;
  readonly brand: Brand;
  readonly i18n: I18n;
}

export function createViews(opts: { cache: boolean; brand?: Brand; i18n?: I18n }): Views {
  const eta = new Eta({ views: VIEWS_DIR, cache: opts.cache, autoEscape: true, autoTrim: false });
  const brand = opts.brand ?? DEFAULT_BRAND;
  const i18n = opts.i18n ?? createI18n();
  return {
    brand,
    i18n,
    render(template, data) {
      const lang = isLanguage(data.lang) ? data.lang : DEFAULT_LANGUAGE;
      return eta.render(template, { productName: brand.name, ...data, brand, lang, t: i18n.translator(lang) });
    },
  };
}
