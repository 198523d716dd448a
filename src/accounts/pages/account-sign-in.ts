// Who is looking at the account pages: the provider's own sign-in session (the same cookie every
// app's sign-in uses). Not signed in → sign in through the provider as the first-party client.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { ProviderFacade } from '../../oidc/facade.ts';
import type { AccountService } from '../account.service.ts';
import type { UserRow } from '../account.repo.ts';
import { ACCOUNT_CLIENT_ID } from '../../clients/client.service.ts';
import { AppError } from '../../errors/app-error.ts';
import { SUPPORT_AMR } from '../../oidc/support-session.ts';
import type { LocaleState } from '../../http/locale.ts';

/** Changing a credential or removing a factor needs a sign-in this recent. */
export const RECENT_SIGN_IN_SECONDS = 10 * 60;
const LOGIN_COOKIE = 'gh_account_login';
const LOGIN_COOKIE_MAX_AGE_MS = 10 * 60 * 1000;

export type SignInOutcome = 'cancelled' | 'expired' | 'failed';

export interface AccountViewer { user: UserRow; sessionUid: string; loginTs: number; amr: string[] }

export function createAccountSession(deps: { oidc: ProviderFacade; accounts: AccountService; issuer: string }) {
  const secure = deps.issuer.startsWith('https:');
  const callback = `${deps.issuer}/account/callback`;

  async function viewer(ctx: Context): Promise<AccountViewer | undefined> {
    const session = await deps.oidc.browserSession(ctx);
    if (!session.accountId) return undefined;
    const user = await deps.accounts.findActive(session.accountId);
    if (!user) {
      // disabled or deleted since it signed in: the session is over
      await session.destroy();
      throw new AppError(403, 'account_disabled', 'This account is disabled. Contact your administrator.');
    }
    return { user, sessionUid: session.uid, loginTs: session.loginTs, amr: session.amr };
  }

  /** Sends the browser to sign in (again, when `fresh`), then back to `returnTo`. */
  function signIn(ctx: Context, returnTo: string, fresh = false, opts: { mfa?: boolean } = {}): void {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const safeReturn = /^\/(account|admin|invitations)(\/|\?|$)/.test(returnTo) ? returnTo : '/account';
    ctx.cookies.set(LOGIN_COOKIE, JSON.stringify({ state, verifier, returnTo: safeReturn }), {
      httpOnly: true, sameSite: 'lax', secure, signed: true, path: '/account', maxAge: LOGIN_COOKIE_MAX_AGE_MS,
    });
    const url = new URL(deps.oidc.routes.authorization, deps.issuer);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID, response_type: 'code', redirect_uri: callback, scope: 'openid', state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      ...(fresh ? { prompt: 'login' } : {}),
      ...(opts.mfa ? { acr_values: 'mfa' } : {}),
    }).toString();
    ctx.redirect(url.toString());
  }

  return {
    viewer,
    signIn,

    /**
     * GET /account/callback: the sign-in finished; the session cookie is set. Burn the code and go
     * back where the sign-in started. Otherwise say why, for the router to show a calm page:
     * `cancelled` (the person chose "Cancel" on the sign-in page), `expired` (no or another
     * browser's sign-in state), `failed` (any other error the provider answered with).
     */
    async callback(ctx: Context): Promise<SignInOutcome | undefined> {
      const raw = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
      ctx.cookies.set(LOGIN_COOKIE, null, { path: '/account' });
      let saved: { state: string; returnTo: string } | undefined;
      try { saved = raw ? JSON.parse(raw) : undefined; } catch { saved = undefined; }
      // a cancel needs no state to be believed: it changes nothing
      if (ctx.query.error === 'access_denied') return 'cancelled';
      if (!saved || typeof ctx.query.state !== 'string' || ctx.query.state !== saved.state) return 'expired';
      if (typeof ctx.query.error === 'string') return 'failed';
      if (typeof ctx.query.code === 'string') {
        await deps.oidc.destroyAuthorizationCode(ctx.query.code, ACCOUNT_CLIENT_ID);
      }
      ctx.redirect(saved.returnTo);
      return undefined;
    },

    /** Middleware: a signed-in viewer, or a detour through sign-in. */
    /**
     * `recent`: a sign-in within RECENT_SIGN_IN_SECONDS (changing or removing a credential).
     * `owner`: the owner's own session, not an administrator's support session (adding a credential).
     * A route with `recent` is an owner's route too.
     */
    required(opts: { recent?: boolean; owner?: boolean } = {}) {
      return async (ctx: Context, next: () => Promise<unknown>) => {
        // after signing in, a GET comes back to itself; a POST to the page its form was on
        const returnTo = ctx.method === 'GET' ? ctx.originalUrl : ctx.path.split('/').slice(0, 3).join('/');
        const v = await viewer(ctx);
        if (!v) return signIn(ctx, returnTo);
        // an administrator's support session (src/admin/impersonation.ts) helps, it never changes how
        // the owner signs in: every page that needs a recent sign-in changes a credential or a factor
        if ((opts.recent || opts.owner) && v.amr.includes(SUPPORT_AMR)) throw new AppError(403, 'support_session', 'errors:message.supportSession');
        if (opts.recent && Math.floor(Date.now() / 1000) - v.loginTs > RECENT_SIGN_IN_SECONDS) return signIn(ctx, returnTo, true);
        ctx.state.viewer = v;
        // the pages speak the signed-in person's language (after an app's ui_locales)
        if (v.user.locale) (ctx.state as LocaleState).userLocale = v.user.locale;
        await next();
      };
    },
  };
}
export type AccountSession = ReturnType<typeof createAccountSession>;

export function viewerOf(ctx: Context): AccountViewer {
  const v = ctx.state.viewer as AccountViewer | undefined;
  if (!v) throw new AppError(401, 'not_signed_in', 'Sign in first.');
  return v;
}
