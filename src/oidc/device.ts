// The device flow's hosted pages (RFC 8628 §3.3), drawn with our views: enter the code, confirm
// what the terminal asked for, then a page that sends the user back to the terminal. The provider
// runs the flow; after the confirm page it signs the user in through the normal login interaction.
//   GET  /device                 enter the code          (device-code)
//   GET  /device?user_code=…     the provider posts the code for the user (verification_uri_complete)
//   POST /device                 wrong code → device-code again; right code → device-confirm
//   POST /device {confirm}       sign in if needed, then device-done (success)
//   POST /device {abort}         device-done (denied); the terminal gets access_denied
import type { Configuration, CookiesSetOptions, KoaContextWithOIDC, Grant, Session } from 'oidc-provider';
import type { AccountsPort } from './ports.ts';
import type { Views } from '../render/views.ts';
import type { Language, Translate } from '../render/i18n.ts';
import { negotiateLanguage } from '../http/locale.ts';
import { WRITE_SCOPE_TEXT, SCOPE_TEXT } from './scopes.ts';
import { markWrongUserCode } from './device-guard.ts';
import type { IssuedUserCodes } from './device-expiry.ts';
import { USER_CODE_CHARSET_NAME, USER_CODE_MASK, formatUserCode, normalizeUserCode } from './user-code.ts';
import {
  confirmingDeviceAccount, denyDeviceCode, DEVICE_CODE_ERRORS, pendingDeviceCode, requestedAuthorization, storeNewSession, typedUserCode,
  UNREADABLE_BODY_DESCRIPTION, xsrfTokenOf,
} from './internals.ts';

type DeviceFlowFeature = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;

export interface DeviceFlowDeps {
  views: Views;
  accounts: AccountsPort;
  /** The provider's session lifetime and cookie settings (its configuration's ttl.Session, cookies.long). */
  session: () => { ttl: number | ((ctx: KoaContextWithOIDC, session: Session) => number); cookie: CookiesSetOptions };
  /** Codes issued and since expired (src/oidc/device-expiry.ts): told "expired", not counted as wrong. */
  issued?: IssuedUserCodes;
}

/** What each re-render of the code page says (device catalog keys), by the provider's error name. */
const CODE_ERRORS: Record<string, string> = {
  [DEVICE_CODE_ERRORS.notFound]: 'device:errors.notFound',
  [DEVICE_CODE_ERRORS.expired]: 'device:errors.expired',
  [DEVICE_CODE_ERRORS.alreadyUsed]: 'device:errors.alreadyUsed',
  [DEVICE_CODE_ERRORS.noCode]: 'device:errors.noCode',
};

function ago(t: Translate, seconds: number): string {
  if (seconds < 60) return t('device:confirm.justNow');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('device:confirm.minutesAgo', { count: minutes });
  return t('device:confirm.hoursAgo', { count: Math.round(minutes / 60) });
}

/** One line for a scope in the page's language (src/oidc/scopes.ts has the English and the list). */
function scopeLine(t: Translate, scope: string, product: string): string {
  if (scope in SCOPE_TEXT || scope in WRITE_SCOPE_TEXT) return t(`device:scopes.${scope.replace(/\W/g, '_')}`, { product });
  return t('device:scopes.other', { scope });
}

async function clientNameOf(ctx: KoaContextWithOIDC, t: Translate): Promise<string> {
  const clientId = pendingDeviceCode(ctx)?.clientId;
  const client = ctx.oidc.client ?? (clientId ? await ctx.oidc.provider.Client.find(clientId) : undefined);
  return client?.clientName ?? client?.clientId ?? t('device:theApplication');
}

/** The device's ui_locales when it sent them, then the signed-in user's locale, then the browser's. */
function languageOf(ctx: KoaContextWithOIDC, userLocale?: unknown): Language {
  const uiLocales = pendingDeviceCode(ctx)?.params?.ui_locales;
  return negotiateLanguage({
    uiLocales: typeof uiLocales === 'string' ? uiLocales : undefined,
    userLocale: typeof userLocale === 'string' ? userLocale : undefined,
    acceptLanguage: ctx.get('accept-language'),
  });
}

export function createDeviceFlow(deps: DeviceFlowDeps): { feature: DeviceFlowFeature; loadExistingGrant: NonNullable<Configuration['loadExistingGrant']> } {
  const render = (ctx: KoaContextWithOIDC, template: string, data: Record<string, unknown> & { title: string; lang: Language }, status?: number) => {
    if (status) ctx.status = status;
    ctx.type = 'html';
    ctx.body = deps.views.render(template, data);
  };
  const translator = (lang: Language) => deps.views.i18n.translator(lang);

  /**
   * The code page re-rendered after an error carries a fresh form token kept in the provider's
   * session. When the request came without a session (no cookie: a POST straight to /device, or
   * GET /device/<anything>), that session was never stored: store it, so the page answers 400 with
   * a form that works rather than a bare 500.
   */
  const keepSession = (ctx: KoaContextWithOIDC) => storeNewSession(ctx, deps.session());

  const done = async (ctx: KoaContextWithOIDC, outcome: 'success' | 'denied' | 'disabled') => {
    const accountId = ctx.oidc.session?.accountId;
    const account = accountId ? await deps.accounts.findById(accountId).catch(() => undefined) : undefined;
    const lang = languageOf(ctx, account?.claims().locale);
    const t = translator(lang);
    render(ctx, 'device-done', {
      title: t(outcome === 'success' ? 'device:done.successTitle' : 'device:done.deniedTitle'), lang, outcome, clientName: await clientNameOf(ctx, t),
    });
  };

  const feature: DeviceFlowFeature = {
    enabled: true,
    charset: USER_CODE_CHARSET_NAME,
    mask: USER_CODE_MASK,

    async userCodeInputSource(ctx, form, out, err) {
      if (err?.name === DEVICE_CODE_ERRORS.aborted) return done(ctx, 'denied');
      const typed = typedUserCode(err);
      let errorName = err?.name;
      if (errorName === DEVICE_CODE_ERRORS.notFound) {
        // a code we issued that has expired since (and left the store) is not a wrong guess
        if (typed !== undefined && await deps.issued?.expired(typed)) errorName = DEVICE_CODE_ERRORS.expired;
        else markWrongUserCode(ctx.req);
      }
      if (err) await keepSession(ctx);
      const lang = languageOf(ctx);
      const t = translator(lang);
      const message = err && t(CODE_ERRORS[errorName!] ?? (out?.error === 'server_error'
        ? 'device:errors.server'
        : out?.error_description === UNREADABLE_BODY_DESCRIPTION // e.g. a control character (src/oidc/provider-input-guard.ts)
          ? 'device:errors.unreadable'
          : 'device:errors.pageExpired'));
      render(ctx, 'device-code', {
        title: t('device:code.title'),
        lang,
        action: ctx.oidc.urlFor('code_verification'),
        xsrf: xsrfTokenOf(form),
        userCode: typed !== undefined ? formatUserCode(normalizeUserCode(typed)) : '',
        error: message,
      }, err ? (out?.error === 'server_error' ? 500 : 400) : 200);
    },

    async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
      const code = pendingDeviceCode(ctx)!;
      const params = code.params;
      const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
      const accountId = ctx.oidc.session?.accountId;
      const account = accountId ? await deps.accounts.findById(accountId) : undefined;
      if (accountId && (!account || account.disabled)) {
        // signed in before the account was disabled: nothing to approve with, and the terminal
        // hears access_denied now rather than at its next poll
        await denyDeviceCode(ctx, 'the account is disabled');
        return done(ctx, 'disabled');
      }
      const requestedAt = (code.issuedAt ?? Math.floor(Date.now() / 1000)) * 1000;
      const lang = languageOf(ctx, account?.claims().locale);
      const t = translator(lang);
      render(ctx, 'device-confirm', {
        title: t('device:confirm.title'),
        lang,
        clientName: client.clientName ?? client.clientId,
        userCode,
        scopes: scopes.map((s) => ({ name: s, description: scopeLine(t, s, deps.views.brand.name) })),
        workspace: typeof params.workspace === 'string' ? params.workspace : undefined,
        requestedAgo: ago(t, Math.max(0, (Date.now() - requestedAt) / 1000)),
        requestedAt: new Date(requestedAt).toISOString(),
        requestedAtText: `${new Date(requestedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        deviceIp: typeof deviceInfo.ip === 'string' ? deviceInfo.ip.replace(/^::ffff:/, '') : undefined, // IPv4-mapped IPv6 → IPv4
        deviceUa: typeof deviceInfo.ua === 'string' ? deviceInfo.ua.slice(0, 120) : undefined,
        accountEmail: account?.email,
        action: ctx.oidc.urlFor('code_verification'),
        xsrf: xsrfTokenOf(form),
      });
    },

    async successSource(ctx) {
      return done(ctx, 'success');
    },
  };

  /**
   * oidc-provider's default, plus: in the device flow the user has just confirmed, on
   * device-confirm, exactly the scopes this request asks for, so that confirmation is the grant
   * and no second consent page follows.
   */
  async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    const accountId = confirmingDeviceAccount(ctx);
    if (!accountId) return existing;
    const grant = existing ?? new oidc.provider.Grant({ accountId, clientId });
    const asked = requestedAuthorization(ctx);
    grant.addOIDCScope(asked.oidcScope.join(' '));
    if (asked.claims.length) grant.addOIDCClaims(asked.claims);
    for (const [indicator, scopes] of Object.entries(asked.resourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
    await grant.save();
    return grant;
  }

  return { feature, loadExistingGrant };
}
