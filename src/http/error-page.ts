// The hosted error pages in the page's language (src/http/locale.ts): the generic error page, and
// the page a sign-in ends on when its interaction is gone (Back after signing in, a sign-in link
// opened in another browser, an expired sign-in) — plain words and a way forward, never the
// provider's technical text.
import type { Context } from 'koa';
import type { Views } from '../render/views.ts';
import type { I18n, Language, Translate } from '../render/i18n.ts';
import { pageLanguage } from './locale.ts';

/** A catalog key used as a message (`errors:message.stale`): translated where it is shown. */
const CATALOG_KEY = /^(errors|signin):[\w.]+$/;

/** Whether `key` (ns:dotted.path) names a string in the English catalog. */
export function hasKey(i18n: I18n, key: string): boolean {
  const [ns, path] = key.split(':');
  let node: unknown = i18n.catalog('en', ns);
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, part)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string';
}

/** A message that may be a catalog key, in language `t` speaks; any other text is returned as it is. */
export function translated(i18n: I18n, t: Translate, message: string): string {
  return CATALOG_KEY.test(message) && hasKey(i18n, message) ? t(message) : message;
}

export interface ErrorPageText {
  heading: string;
  message: string;
  title?: string;
  /** the OAuth error code and description, under "Technical details" */
  error?: string;
  errorDescription?: string;
}

/** The error page as HTML in `lang`; the texts are already in that language. */
export function errorPageHtml(views: Views, lang: Language, text: ErrorPageText): string {
  const t = views.i18n.translator(lang);
  return views.render('error', { lang, title: text.title ?? t('errors:title'), ...text });
}

/** Answers with the error page in this request's language. */
export function renderErrorPage(views: Views, ctx: Context, status: number, text: (t: Translate) => ErrorPageText): void {
  const lang = pageLanguage(ctx);
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = errorPageHtml(views, lang, text(views.i18n.translator(lang)));
}

/**
 * Where "Start again" sends someone whose sign-in is gone: the app's own sign-in start
 * (initiate_login_uri), else the origin of its first web redirect URI (the app's home, which
 * starts a new sign-in), else nothing (the page offers the account pages instead).
 */
export function startAgainUrl(metadata: Record<string, unknown> | undefined): string | undefined {
  if (!metadata) return undefined;
  const web = (value: unknown, loopbackHttp: boolean) => {
    if (typeof value !== 'string') return undefined;
    try {
      const url = new URL(value);
      if (url.username || url.password) return undefined;
      if (url.protocol === 'https:') return url;
      if (loopbackHttp && url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return url;
    } catch { /* not a URL */ }
    return undefined;
  };
  const initiate = web(metadata.initiate_login_uri, false);
  if (initiate) return initiate.href;
  const redirects = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
  for (const uri of redirects) {
    const url = web(uri, true);
    if (url) return `${url.origin}/`;
  }
  return undefined;
}

export interface EndedSignIn { clientName?: string; startAgain?: string }

/** The page of a sign-in that is gone: what happened, "Start again" when the app is known, "Go to your account". */
export function renderSignInEnded(views: Views, ctx: Context, ended: EndedSignIn): void {
  const lang = pageLanguage(ctx);
  const t = views.i18n.translator(lang);
  ctx.status = 400;
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = views.render('signin-ended', { lang, title: t('errors:deadEnd.title'), ...ended });
}

/** oidc-provider's "interaction session (id cookie) not found", "authorization request has expired" … */
export function isSessionNotFound(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { name?: unknown }).name === 'SessionNotFound';
}
