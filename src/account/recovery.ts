// Forgotten password: ask by email (the same answer whether or not an account exists), then a
// single-use link valid 30 minutes leads to a new password; every session and token ends.
import type { Context } from 'koa';
import { AppError } from '../http/errors.ts';
import { requestOrigin } from '../audit/audit.ts';
import { RESET_LIMITS, recordFailure, retryAfter } from '../security/rate-limit.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { accountPage, type AccountDeps } from './context.ts';

const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)?.[name] ?? '');

export function createRecoveryHandlers(deps: AccountDeps) {
  const limits = { ip: deps.limiters(RESET_LIMITS.ip), email: deps.limiters(RESET_LIMITS.email) };
  const sent = { title: 'Check your email', heading: 'Check your email', message: 'If an account uses that address, we sent it a link to choose a new password. The link works once, for 30 minutes.' };

  return {
    forgotForm(ctx: Context, error?: string, status = 200) {
      accountPage(deps, ctx, 'account/forgot', { title: 'Reset your password', error, email: typeof ctx.query.email === 'string' ? ctx.query.email : '' }, status);
    },
    async forgot(ctx: Context) {
      const email = field(ctx, 'email').trim();
      const checks: Array<[typeof limits.ip, string]> = [[limits.ip, ctx.ip], [limits.email, normalizeEmail(email)]];
      const wait = await retryAfter(checks);
      if (wait > 0) { ctx.set('Retry-After', String(wait)); return this.forgotForm(ctx, 'Too many requests. Try again later.', 429); }
      await recordFailure(checks);
      if (email) await deps.lifecycle.requestReset(email, requestOrigin(ctx));
      accountPage(deps, ctx, 'account/notice', sent);
    },
    async resetForm(ctx: Context, error?: string, status = 200) {
      const token = String(ctx.params.token ?? '');
      if (!(await deps.lifecycle.peekReset(token))) {
        return accountPage(deps, ctx, 'account/notice', { title: 'Link expired', heading: 'This link has expired', message: 'Reset links work once, for 30 minutes. Ask for a new one.', link: '/account/forgot', linkText: 'Reset your password' }, 400);
      }
      accountPage(deps, ctx, 'account/reset', { title: 'Choose a new password', error, action: `/account/reset/${token}` }, status);
    },
    async reset(ctx: Context) {
      const token = String(ctx.params.token ?? '');
      if (field(ctx, 'new_password') !== field(ctx, 'confirm_password')) return this.resetForm(ctx, 'The two passwords are not the same.', 400);
      try {
        const user = await deps.lifecycle.resetPassword(token, field(ctx, 'new_password'), requestOrigin(ctx));
        if (!user) return this.resetForm(ctx);
      } catch (e) {
        if (e instanceof AppError && e.status === 400) return this.resetForm(ctx, e.message, 400);
        throw e;
      }
      accountPage(deps, ctx, 'account/notice', { title: 'Password changed', heading: 'Your password was changed', message: 'Every session was signed out. Sign in with your new password.' });
    },
  };
}
