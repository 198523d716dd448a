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
import type { AccountPageDeps } from './page-deps.ts';
import { accountForms } from './account-forms.ts';

export function createRecoveryHandlers(deps: AccountPageDeps) {
  const limits = { ip: deps.limiters(RESET_LIMITS.ip), email: deps.limiters(RESET_LIMITS.email) };
  const resetLink = linkSecret({ cookie: 'gh_reset', path: '/account/reset', maxAgeSeconds: RESET_TTL, secure: deps.config.issuer.startsWith('https:') });
  const sent = { title: 'Check your email', heading: 'Check your email', message: 'If an account uses that address, we sent it a link to choose a new password. The link works once, for 30 minutes.' };

  return {
    forgotForm(ctx: Context, error?: string, status = 200) {
      deps.page(ctx, 'account/forgot', { title: 'Reset your password', error, email: typeof ctx.query.email === 'string' ? ctx.query.email : '' }, status);
    },
    async forgot(ctx: Context) {
      const { email } = guarded(ctx, accountForms.forgot).body;
      const ipCheck: [typeof limits.ip, string] = [limits.ip, ctx.ip];
      const addressCheck: [typeof limits.ip, string] = [limits.email, normalizeEmail(email)];
      const ipWait = await retryAfter([ipCheck]);
      if (ipWait > 0) { ctx.set('Retry-After', String(ipWait)); return this.forgotForm(ctx, 'Too many requests from your network. Try again later.', 429); }
      // counted per address whether or not an account has it, so this answer tells nothing either;
      // the links already mailed keep working, so the owner is never stuck waiting
      const addressWait = email ? await retryAfter([addressCheck]) : 0;
      if (addressWait > 0) {
        ctx.set('Retry-After', String(addressWait));
        return this.forgotForm(ctx, `Several reset links were asked for this address in the last few minutes. If an account uses it, the links we mailed still work: use any of them. You can ask for another in ${Math.ceil(addressWait / 60)} minute(s).`, 429);
      }
      await recordFailure(email ? [ipCheck, addressCheck] : [ipCheck]);
      if (email) await deps.lifecycle.requestReset(email, requestOrigin(ctx));
      deps.page(ctx, 'account/notice', sent);
    },
    /** The mailed link (GET /account/reset?token=…): the token moves into a cookie, the URL loses it. */
    landing(ctx: Context) {
      const token = resetLink.landing(ctx) ?? ctx.params.token; // …/reset/:token: links mailed by older versions
      if (token === undefined) return this.resetForm(ctx);
      resetLink.keepAndRedirect(ctx, token);
    },
    async resetForm(ctx: Context, error?: string, status = 200) {
      const token = resetLink.read(ctx);
      if (!token || !(await deps.lifecycle.peekReset(token))) {
        return deps.page(ctx, 'account/notice', { title: 'Link expired', heading: 'This link has expired', message: 'Reset links work once, for 30 minutes. Ask for a new one.', link: '/account/forgot', linkText: 'Reset your password' }, 400);
      }
      deps.page(ctx, 'account/reset', { title: 'Choose a new password', error, action: '/account/reset' }, status);
    },
    async reset(ctx: Context) {
      const token = resetLink.read(ctx);
      const form = guarded(ctx, accountForms.reset).body;
      if (form.new_password !== form.confirm_password) return this.resetForm(ctx, 'The two passwords are not the same.', 400);
      try {
        const user = await deps.lifecycle.resetPassword(token, form.new_password, requestOrigin(ctx));
        if (!user) return this.resetForm(ctx);
        resetLink.clear(ctx);
        // the owner proved the mailbox: the blocks somebody else's guesses caused end here
        await forgetSignInFailures(deps.limiters, { email: user.email_normalized, userId: user.id, ip: ctx.ip });
      } catch (e) {
        if (e instanceof AppError && e.status === 400) return this.resetForm(ctx, e.message, 400);
        throw e;
      }
      deps.page(ctx, 'account/notice', { title: 'Password changed', heading: 'Your password was changed', message: 'Every session was signed out. Sign in with your new password.' });
    },
  };
}
