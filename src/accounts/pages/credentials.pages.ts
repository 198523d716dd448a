// Password and email: change the password (current one required), change the email (recent
// sign-in; the new address is verified first and the old one told), verify the email.
import type { Context } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { VERIFY_LIMITS, recordFailure, retryAfter } from '../../security/rate-limit.ts';
import { accountPage, back, noticeOf, type AccountDeps } from './page-deps.ts';
import { viewerOf } from './account-sign-in.ts';

const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)?.[name] ?? '');

export function createCredentialHandlers(deps: AccountDeps) {
  const resendLimit = deps.limiters(VERIFY_LIMITS.resend);

  return {
    passwordForm(ctx: Context, error?: string, status = 200) {
      accountPage(deps, ctx, 'account/password', { title: 'Password', error, notice: noticeOf(ctx) }, status);
    },
    async changePassword(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (field(ctx, 'new_password') !== field(ctx, 'confirm_password')) return this.passwordForm(ctx, 'The two new passwords are not the same.', 400);
      try {
        await deps.lifecycle.changePassword(user, field(ctx, 'current_password'), field(ctx, 'new_password'), requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.status === 400) return this.passwordForm(ctx, e.message, 400);
        throw e;
      }
      // every session ended with the change, this one too
      accountPage(deps, ctx, 'account/notice', { title: 'Password changed', heading: 'Password changed', message: 'Your password was changed and every session was signed out. Sign in again with the new password.', link: '/account', linkText: 'Sign in' });
    },

    emailForm(ctx: Context, error?: string, status = 200) {
      const { user } = viewerOf(ctx);
      accountPage(deps, ctx, 'account/email', { title: 'Email', user, error, notice: noticeOf(ctx) }, status);
    },
    async requestEmailChange(ctx: Context) {
      const { user } = viewerOf(ctx);
      try {
        await deps.lifecycle.requestEmailChange(user, field(ctx, 'email'), requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.status < 500) return this.emailForm(ctx, e.message, 400);
        throw e;
      }
      accountPage(deps, ctx, 'account/code', { title: 'Confirm your new email', heading: 'Check your new inbox',
        message: `If ${field(ctx, 'email')} can receive mail, it now has a code and a link. Your email changes once you confirm it.`,
        action: '/account/email/confirm' });
    },
    async confirmEmailChange(ctx: Context) {
      const input = ctx.method === 'GET' ? { token: String(ctx.query.token ?? '') } : { userId: viewerOf(ctx).user.id, code: field(ctx, 'code') };
      const user = await deps.lifecycle.confirmEmailChange(input, requestOrigin(ctx));
      if (!user) {
        return accountPage(deps, ctx, 'account/notice', { title: 'Link expired', heading: 'That code or link is not valid', message: 'It may have expired or been used already. Request the change again from your account.', link: '/account/email', linkText: 'Back to email' }, 400);
      }
      back(ctx, '/account/email', `Your email is now ${user.email}.`);
    },

    async verifyEmail(ctx: Context) {
      const input = ctx.method === 'GET' ? { token: String(ctx.query.token ?? '') } : { userId: viewerOf(ctx).user.id, code: field(ctx, 'code') };
      const user = await deps.lifecycle.verifyEmail(input, requestOrigin(ctx));
      if (!user) {
        return accountPage(deps, ctx, 'account/notice', { title: 'Link expired', heading: 'That code or link is not valid', message: 'It may have expired or been used already. Send a new one from your account.', link: '/account/email', linkText: 'Back to email' }, 400);
      }
      return accountPage(deps, ctx, 'account/notice', { title: 'Email verified', heading: 'Email verified', message: `${user.email} is verified. You can close this page.`, link: '/account', linkText: 'Go to your account' });
    },
    async resendVerification(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (user.email_verified) return back(ctx, '/account/email', 'Your email is already verified.');
      const wait = await retryAfter([[resendLimit, user.id]]);
      if (wait > 0) { ctx.set('Retry-After', String(wait)); return this.emailForm(ctx, `You asked for several messages already. Try again in ${Math.ceil(wait / 60)} minute(s).`, 429); }
      await recordFailure([[resendLimit, user.id]]);
      await deps.lifecycle.sendVerification(user);
      accountPage(deps, ctx, 'account/code', { title: 'Verify your email', heading: 'Check your inbox', message: `We sent a code and a link to ${user.email}.`, action: '/account/verify-email' });
    },
  };
}
