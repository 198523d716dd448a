// Password and email: change the password (current one required; an account with none sets its
// first one after a recent sign-in), change the email (recent sign-in; the new address is verified
// first and the old one told), verify the email.
import type { Context } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import { guarded } from '../../http/guard.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { PASSWORD_CHANGE_LIMITS, VERIFY_LIMITS, recordFailure, retryAfter } from '../../security/rate-limit.ts';
import { back, noticeOf, type AccountPageDeps } from './page-deps.ts';
import { accountForms } from './account-forms.ts';
import { RECENT_SIGN_IN_SECONDS, viewerOf } from './account-sign-in.ts';

/** A mailed link (GET, its token in the query) or the code from the same mail typed in (POST, signed in). */
function mailedSecret(ctx: Context): { token: string } | { userId: string; code: string } {
  return ctx.method === 'GET'
    ? { token: guarded(ctx, accountForms.link).query.token }
    : { userId: viewerOf(ctx).user.id, code: guarded(ctx, accountForms.code).body.code };
}

export function createCredentialHandlers(deps: AccountPageDeps) {
  const resendLimit = deps.limiters(VERIFY_LIMITS.resend);
  const changeLimit = deps.limiters(PASSWORD_CHANGE_LIMITS.account);

  return {
    passwordForm(ctx: Context, error?: string, status = 200) {
      // an account made by an upstream sign-in has no password: it sets one, with no current one to give
      const hasPassword = Boolean(viewerOf(ctx).user.password_hash);
      deps.page(ctx, 'account/password', { title: hasPassword ? 'Password' : 'Set a password', hasPassword, error, notice: noticeOf(ctx) }, status);
    },
    async changePassword(ctx: Context) {
      const { user, loginTs } = viewerOf(ctx);
      const form = guarded(ctx, accountForms.password).body;
      if (form.new_password !== form.confirm_password) return this.passwordForm(ctx, 'The two new passwords are not the same.', 400);
      if (!user.password_hash) {
        // no current password to prove it is the owner: a recent sign-in instead
        if (Math.floor(Date.now() / 1000) - loginTs > RECENT_SIGN_IN_SECONDS) return deps.session.signIn(ctx, '/account/password', true);
        try {
          await deps.lifecycle.setFirstPassword(user, form.new_password, requestOrigin(ctx));
        } catch (e) {
          if (e instanceof AppError && e.status < 500) return this.passwordForm(ctx, e.message, e.status);
          throw e;
        }
        return back(ctx, '/account/password', 'password-set');
      }
      const wait = await retryAfter([[changeLimit, user.id]]);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        return this.passwordForm(ctx, `Too many wrong current passwords. Try again in ${Math.ceil(wait / 60)} minute(s), or reset your password by email.`, 429);
      }
      try {
        await deps.lifecycle.changePassword(user, form.current_password, form.new_password, requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.code === 'wrong_password') await recordFailure([[changeLimit, user.id]]);
        if (e instanceof AppError && e.status === 400) return this.passwordForm(ctx, e.message, 400);
        throw e;
      }
      await changeLimit.delete(user.id);
      // every session ended with the change, this one too
      deps.page(ctx, 'account/notice', { title: 'Password changed', heading: 'Password changed', message: 'Your password was changed and every session was signed out. Sign in again with the new password.', link: '/account', linkText: 'Sign in' });
    },

    emailForm(ctx: Context, error?: string, status = 200) {
      const { user } = viewerOf(ctx);
      deps.page(ctx, 'account/email', { title: 'Email', user, error, notice: noticeOf(ctx) }, status);
    },
    async requestEmailChange(ctx: Context) {
      const { user } = viewerOf(ctx);
      const { email } = guarded(ctx, accountForms.email).body;
      try {
        await deps.lifecycle.requestEmailChange(user, email, requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.status < 500) return this.emailForm(ctx, e.message, 400);
        throw e;
      }
      deps.page(ctx, 'account/code', { title: 'Confirm your new email', heading: 'Check your new inbox',
        message: `If ${email} can receive mail, it now has a code and a link. Your email changes once you confirm it.`,
        action: '/account/email/confirm' });
    },
    async confirmEmailChange(ctx: Context) {
      const user = await deps.lifecycle.confirmEmailChange(mailedSecret(ctx), requestOrigin(ctx));
      if (!user) {
        return deps.page(ctx, 'account/notice', { title: 'Link expired', heading: 'That code or link is not valid', message: 'It may have expired or been used already. Request the change again from your account.', link: '/account/email', linkText: 'Back to email' }, 400);
      }
      back(ctx, '/account/email', 'email-changed'); // the page shows the new address
    },

    async verifyEmail(ctx: Context) {
      const user = await deps.lifecycle.verifyEmail(mailedSecret(ctx), requestOrigin(ctx));
      if (!user) {
        return deps.page(ctx, 'account/notice', { title: 'Link expired', heading: 'That code or link is not valid', message: 'It may have expired or been used already. Send a new one from your account.', link: '/account/email', linkText: 'Back to email' }, 400);
      }
      return deps.page(ctx, 'account/notice', { title: 'Email verified', heading: 'Email verified', message: `${user.email} is verified. You can close this page.`, link: '/account', linkText: 'Go to your account' });
    },
    async resendVerification(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (user.email_verified) return back(ctx, '/account/email', 'email-already-verified');
      const wait = await retryAfter([[resendLimit, user.id]]);
      if (wait > 0) { ctx.set('Retry-After', String(wait)); return this.emailForm(ctx, `You asked for several messages already. Try again in ${Math.ceil(wait / 60)} minute(s).`, 429); }
      await recordFailure([[resendLimit, user.id]]);
      await deps.lifecycle.sendVerification(user);
      deps.page(ctx, 'account/code', { title: 'Verify your email', heading: 'Check your inbox', message: `We sent a code and a link to ${user.email}.`, action: '/account/verify-email' });
    },
  };
}
