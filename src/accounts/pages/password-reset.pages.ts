// Forgotten password: ask by email (the same answer whether or not an account exists), then a
// single-use link valid 30 minutes leads to a new password; every session and token ends.
import type { Context } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { RESET_LIMITS, forgetSignInFailures, recordFailure, retryAfter } from '../../security/rate-limit.ts';
import { normalizeEmail } from '../email.ts';
import { RESET_TTL } from '../lifecycle.ts';
import { linkSecret } from '../../security/link-secret.ts';
import { guarded } from '../../http/guard.ts';
import { errorWords, translatorFor, type AccountPageDeps } from './page-deps.ts';
import { accountForms, interactionUid } from './account-forms.ts';

/**
 * The sign-in a reset started from (its interaction uid), kept in this browser only: an HttpOnly
 * cookie set when the reset is asked for, read when it is done, so the last page can offer "continue
 * to the app". Never in the mailed URL: a link opened in another browser simply offers the account.
 */
const RETURN_COOKIE = 'gh_reset_return';

export function createRecoveryHandlers(deps: AccountPageDeps) {
  const limits = { ip: deps.limiters(RESET_LIMITS.ip), email: deps.limiters(RESET_LIMITS.email) };
  const secure = deps.config.issuer.startsWith('https:');
  const resetLink = linkSecret({ cookie: 'gh_reset', path: '/account/reset', maxAgeSeconds: RESET_TTL, secure });
  const returnCookie = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true, path: '/account', overwrite: true };
  const signInPage = (uid: string | undefined) => (uid ? `/interaction/${encodeURIComponent(uid)}` : '/account');
  const keptInteraction = (ctx: Context): string | undefined => interactionUid.parse(ctx.cookies.get(RETURN_COOKIE, { signed: true }) ?? undefined);

  return {
    /** GET /account/forgot?interaction=&email=: the email prefilled, "Back to sign in" to the sign-in it came from. */
    forgotForm(ctx: Context, error?: string, status = 200) {
      const t = translatorFor(deps, ctx);
      const { email, interaction } = ctx.method === 'GET' ? guarded(ctx, accountForms.forgotLink).query : guarded(ctx, accountForms.forgot).body;
      deps.page(ctx, 'account/forgot', { title: t('account:forgot.title'), error, email, interaction, backTo: signInPage(interaction) }, status);
    },
    async forgot(ctx: Context) {
      const t = translatorFor(deps, ctx);
      const { email, interaction } = guarded(ctx, accountForms.forgot).body;
      const ipCheck: [typeof limits.ip, string] = [limits.ip, ctx.ip];
      const addressCheck: [typeof limits.ip, string] = [limits.email, normalizeEmail(email)];
      const ipWait = await retryAfter([ipCheck]);
      if (ipWait > 0) { ctx.set('Retry-After', String(ipWait)); return this.forgotForm(ctx, t('account:forgot.ipLimit'), 429); }
      // counted per address whether or not an account has it, so this answer tells nothing either;
      // the links already mailed keep working, so the owner is never stuck waiting
      const addressWait = email ? await retryAfter([addressCheck]) : 0;
      if (addressWait > 0) {
        ctx.set('Retry-After', String(addressWait));
        return this.forgotForm(ctx, t('account:forgot.addressLimit', { count: Math.ceil(addressWait / 60) }), 429);
      }
      await recordFailure(email ? [ipCheck, addressCheck] : [ipCheck]);
      if (email) await deps.lifecycle.requestReset(email, requestOrigin(ctx));
      if (interaction) ctx.cookies.set(RETURN_COOKIE, interaction, { ...returnCookie, maxAge: RESET_TTL * 1000 });
      else ctx.cookies.set(RETURN_COOKIE, '', { ...returnCookie, maxAge: 0 });
      deps.page(ctx, 'account/notice', {
        title: t('account:forgot.sentTitle'), heading: t('account:forgot.sentTitle'), message: t('account:forgot.sentMessage'),
        secondLink: signInPage(interaction), secondLinkText: t('account:forgot.backToSignIn'),
      });
    },
    /** The mailed link (GET /account/reset?token=…): the token moves into a cookie, the URL loses it. */
    landing(ctx: Context) {
      const token = resetLink.landing(ctx) ?? ctx.params.token; // …/reset/:token: links mailed by older versions
      if (token === undefined) return this.resetForm(ctx);
      resetLink.keepAndRedirect(ctx, token);
    },
    async resetForm(ctx: Context, errors?: { new_password?: string; confirm_password?: string }, status = 200) {
      const t = translatorFor(deps, ctx);
      const token = resetLink.read(ctx);
      if (!token || !(await deps.lifecycle.peekReset(token))) {
        return deps.page(ctx, 'account/notice', {
          title: t('account:reset.expiredTitle'), heading: t('account:reset.expiredHeading'), message: t('account:reset.expiredMessage'),
          link: '/account/forgot', linkText: t('account:reset.askAgain'),
        }, 400);
      }
      deps.page(ctx, 'account/reset', { title: t('account:reset.title'), errors, action: '/account/reset' }, status);
    },
    async reset(ctx: Context) {
      const t = translatorFor(deps, ctx);
      const token = resetLink.read(ctx);
      const form = guarded(ctx, accountForms.reset).body;
      if (form.new_password !== form.confirm_password) return this.resetForm(ctx, { confirm_password: t('account:reset.mismatch') }, 400);
      try {
        const user = await deps.lifecycle.resetPassword(token, form.new_password, requestOrigin(ctx));
        if (!user) return this.resetForm(ctx);
        resetLink.clear(ctx);
        // the owner proved the mailbox: the blocks somebody else's guesses caused end here
        await forgetSignInFailures(deps.limiters, { email: user.email_normalized, userId: user.id, ip: ctx.ip });
      } catch (e) {
        if (e instanceof AppError && e.status === 400) return this.resetForm(ctx, { new_password: errorWords(t, e) }, 400);
        throw e;
      }
      // back to the app's sign-in when the reset started there, in this browser
      const interaction = keptInteraction(ctx);
      ctx.cookies.set(RETURN_COOKIE, '', { ...returnCookie, maxAge: 0 });
      deps.page(ctx, 'account/notice', {
        title: t('account:reset.doneTitle'), heading: t('account:reset.doneHeading'), message: t('account:reset.doneMessage'), done: true,
        ...(interaction
          ? { link: signInPage(interaction), linkText: t('account:reset.backToApp'), secondLink: '/account', secondLinkText: t('account:reset.toAccount') }
          : { link: '/account', linkText: t('account:reset.toAccount') }),
      });
    },
  };
}
