// Signing out of the account pages, and the end of their own sign-in when it did not sign in.
// Sign-out goes through the provider's RP-initiated logout as the account client, like any app's:
// the provider asks "Sign out?", ends the session (its grants, back-channel logout to the apps,
// the upstream sign-out of src/oidc/upstream-logout.ts), then returns to /account/signed-out, which
// is registered for the built-in client (src/clients/client.service.ts ensureSystemClient).
import type { Context } from 'koa';
import { ACCOUNT_CLIENT_ID } from '../../clients/client.service.ts';
import { pageLanguage } from '../../http/locale.ts';
import type { SignInOutcome } from './account-sign-in.ts';
import { translatorFor, type AccountPageDeps } from './page-deps.ts';

export const SIGNED_OUT_PATH = '/account/signed-out';

export function createSignOutHandlers(deps: AccountPageDeps) {
  return {
    /** POST /account/sign-out (CSRF): on to the provider's end_session, which returns to the signed-out page. */
    start(ctx: Context) {
      const url = new URL(deps.oidc.routes.end_session, deps.config.issuer);
      url.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        post_logout_redirect_uri: `${deps.config.issuer}${SIGNED_OUT_PATH}`,
        ui_locales: pageLanguage(ctx),
      }).toString();
      ctx.status = 303;
      ctx.redirect(url.toString());
    },

    /** GET /account/signed-out: the end of it. "No, stay signed in" also returns here: then the account page. */
    async done(ctx: Context) {
      if (await deps.oidc.signedInAccountId(ctx)) return ctx.redirect('/account');
      const t = translatorFor(deps, ctx);
      deps.page(ctx, 'account/notice', {
        title: t('account:signedOut.title'), heading: t('account:signedOut.heading'), message: t('account:signedOut.message'),
        link: '/account', linkText: t('account:signedOut.signInAgain'), secondLink: '/', secondLinkText: t('account:signedOut.home'), done: true,
      });
    },

    /** The account's own sign-in came back without signing in: a calm page with the way on, never an error. */
    signInOutcome(ctx: Context, outcome: SignInOutcome) {
      const t = translatorFor(deps, ctx);
      const words = {
        cancelled: ['account:signIn.cancelledTitle', 'account:signIn.cancelledHeading', 'account:signIn.cancelledMessage'],
        expired: ['account:signIn.expiredTitle', 'account:signIn.expiredHeading', 'account:signIn.expiredMessage'],
        failed: ['account:signIn.failedTitle', 'account:signIn.failedHeading', 'account:signIn.failedMessage'],
      }[outcome].map((k) => t(k));
      deps.page(ctx, 'account/notice', {
        title: words[0]!, heading: words[1], message: words[2],
        link: '/account', linkText: t('account:signIn.signIn'), secondLink: '/', secondLinkText: t('account:signIn.home'),
      }, outcome === 'cancelled' ? 200 : 400);
    },
  };
}
