// Pages the provider renders itself (errors, logout), drawn with our views so every page looks alike,
// in the page's language (src/http/locale.ts: the request's ui_locales when the provider has read
// them, else Accept-Language).
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Views } from '../render/views.ts';
import type { Context, Middleware } from 'koa';
import { backingServiceFailure, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE } from '../storage/failures.ts';
import { countUnavailable } from '../observability/metrics.ts';
import { errorPageHtml, hasKey, isSessionNotFound, renderSignInEnded, startAgainUrl } from '../http/error-page.ts';
import { pageLanguage, type LocaleState } from '../http/locale.ts';

/** oidc-provider's interaction ids (nanoid) */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/** The authorization request's ui_locales, when the provider has parsed them, choose the page's language. */
function speakRequestLanguage(ctx: Context): void {
  const params = (ctx as Partial<KoaContextWithOIDC>).oidc?.params as Record<string, unknown> | undefined;
  const uiLocales = params?.ui_locales;
  if (typeof uiLocales === 'string' && uiLocales.trim()) (ctx.state as LocaleState).uiLocales = uiLocales;
}

/**
 * The one answer to a store failure in the provider's part of the server: a 503 with Retry-After,
 * the error page for a browser (`html`), else the spec-shaped JSON error.
 */
export function answerUnavailable(views: Views, ctx: Context, html: boolean): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (html) {
    const lang = pageLanguage(ctx);
    const t = views.i18n.translator(lang);
    ctx.type = 'html';
    ctx.set('Content-Language', lang);
    ctx.body = errorPageHtml(views, lang, { title: t('errors:heading.unavailable'), heading: t('errors:heading.unavailable'), message: t('errors:message.unavailable') });
  } else {
    ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_MESSAGE };
  }
}

/**
 * The resume of an interaction that is gone (its cookie missing, the interaction finished or
 * expired): the plain "this sign-in has ended" page, with "Start again" back to the app when the
 * interaction still names it.
 */
async function renderEndedSignIn(views: Views, ctx: KoaContextWithOIDC): Promise<void> {
  let client = ctx.oidc?.client;
  if (!client) {
    const uid = String((ctx as unknown as { params?: Record<string, unknown> }).params?.uid ?? ctx.path.split('/').pop() ?? '');
    const interaction = UID.test(uid) ? await ctx.oidc?.provider.Interaction.find(uid).catch(() => undefined) : undefined;
    const clientId = interaction?.params?.client_id;
    if (typeof clientId === 'string') client = await ctx.oidc.provider.Client.find(clientId).catch(() => undefined);
  }
  const metadata = client?.metadata() as Record<string, unknown> | undefined;
  renderSignInEnded(views, ctx, { clientName: client?.clientName, startAgain: startAgainUrl(metadata) });
}

export async function renderProviderError(views: Views, ctx: KoaContextWithOIDC, out: Record<string, unknown>, error: unknown): Promise<void> {
  const code = String(out.error ?? 'server_error');
  if (backingServiceFailure(error)) return answerUnavailable(views, ctx, true); // see src/oidc/events.ts: a 503, not the provider's 500
  speakRequestLanguage(ctx);
  if (isSessionNotFound(error)) return renderEndedSignIn(views, ctx);
  const lang = pageLanguage(ctx);
  const t = views.i18n.translator(lang);
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = errorPageHtml(views, lang, {
    heading: t('errors:heading.provider'),
    message: /^[a-z_]+$/.test(code) && hasKey(views.i18n, `errors:provider.${code}`) ? t(`errors:provider.${code}`) : t('errors:message.providerDefault'),
    error: code,
    errorDescription: typeof out.error_description === 'string' ? out.error_description : undefined,
  });
}

export function renderLogout(views: Views, ctx: KoaContextWithOIDC, form: string): void {
  speakRequestLanguage(ctx); // end_session takes ui_locales too (RP-Initiated Logout §2)
  const lang = pageLanguage(ctx);
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = views.render('logout', {
    lang,
    title: views.i18n.translator(lang)('signin:logout.title'),
    form,
    clientName: ctx.oidc.client?.clientName,
    host: ctx.host,
  });
}

export function renderLogoutSuccess(views: Views, ctx: KoaContextWithOIDC): void {
  const lang = pageLanguage(ctx);
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = views.render('logout-success', { lang, title: views.i18n.translator(lang)('signin:logout.doneTitle'), clientName: ctx.oidc.client?.clientName });
}

/**
 * The provider's own error handling covers its route handlers only: a store failure in what runs
 * around them (middleware added with provider.use, the session save after a handler) would reach
 * Koa's default handler, a bare 500. The first middleware of every provider instance: such a
 * failure is a 503 with Retry-After, JSON for API clients, the error page for a browser.
 */
export function answerStoreFailures(views: Views): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!backingServiceFailure(err)) throw err;
      countUnavailable(err);
      answerUnavailable(views, ctx, ctx.method === 'GET' && ctx.accepts('json', 'html') === 'html');
    }
  };
}
