// Which language a hosted page speaks: the app's `ui_locales` (set on ctx.state.uiLocales by the
// interaction pages), then the signed-in user's `locale` (ctx.state.userLocale), then the
// browser's Accept-Language, then English.
import type { Context } from 'koa';
import { DEFAULT_LANGUAGE, LANGUAGES, pickLanguage, type Language } from '../render/i18n.ts';

export interface LocaleState {
  /** space-separated BCP 47 tags from the authorization request (OIDC Core §3.1.2.1) */
  uiLocales?: string;
  /** the user's `locale` claim */
  userLocale?: string;
}

/** Accept-Language tags in order of their q value (RFC 9110 §12.5.4); q=0 means "not this one". */
export function acceptLanguageTags(header: string | undefined): string[] {
  if (!header) return [];
  return header.split(',').map((part, i) => {
    const [tag, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, i };
  }).filter((x) => x.tag && x.tag !== '*' && x.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.i - b.i)
    .map((x) => x.tag);
}

export function negotiateLanguage(opts: { uiLocales?: string; userLocale?: string; acceptLanguage?: string }): Language {
  return pickLanguage(opts.uiLocales?.split(/\s+/) ?? [])
    ?? pickLanguage([opts.userLocale])
    ?? pickLanguage(acceptLanguageTags(opts.acceptLanguage))
    ?? DEFAULT_LANGUAGE;
}

/** The language of this request's page. */
export function pageLanguage(ctx: Context): Language {
  const state = ctx.state as LocaleState;
  return negotiateLanguage({ uiLocales: state.uiLocales, userLocale: state.userLocale, acceptLanguage: ctx.get('accept-language') });
}

export { LANGUAGES };
