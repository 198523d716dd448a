// Password and email: change the password (current one required; an account with none sets its
// first one after a recent sign-in), change the email (recent sign-in; the new address is verified
// first and the old one told), verify the email.
import type { Context } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import { guarded } from '../../http/guard.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { PASSWORD_CHANGE_LIMITS, VERIFY_LIMITS, recordFailure, retryAfter } from '../../security/rate-limit.ts';
import { back, errorWords, noticeOf, translatorFor, type AccountPageDeps } from './page-deps.ts';
import { accountForms } from './account-forms.ts';
import { RECENT_SIGN_IN_SECONDS, viewerOf } from './account-sign-in.ts';

/** A mailed link (GET, its token in the query) or the code from the same mail typed in (POST, signed in). */
function mailedSecret(ctx: Context): { token: string } | { userId: string; code: string } {
  return ctx.method === 'GET'
    ? { token: guarded(ctx, accountForms.link).query.token }
    : { userId: viewerOf(ctx).user.id, code: guarded(ctx, accountForms.code).body.code };
}

type PasswordField = 'current_password' | 'new_password' | 'confirm_password';
/** Which field a refused password change is about. */
const PASSWORD_FIELD: Record<string, PasswordField> = { wrong_password: 'current_password', weak_password: 'new_password' };

export function createCredentialHandlers(deps: AccountPageDeps) {
  const resendLimit = deps.limiters(VERIFY_LIMITS.resend);
  const changeLimit = deps.limiters(PASSWORD_CHANGE_LIMITS.account);

  return {
    /** The password form; `problem` goes next to its field, or above the form when it is about no field. */
    passwordForm(ctx: Context, problem?: { field?: PasswordField; text: string }, status = 200) {
      // an account made by an upstream sign-in has no password: it sets one, with no current one to give
      const hasPassword = Boolean(viewerOf(ctx).user.password_hash);
      const t = translatorFor(deps, ctx);
      deps.page(ctx, 'account/password', {
        title: hasPassword ? t('account:password.title') : t('account:password.setTitle'), hasPassword, notice: noticeOf(ctx),
        error: problem && !problem.field ? problem.text : undefined,
        errors: problem?.field ? { [problem.field]: problem.text } : undefined,
      }, status);
    },
    async changePassword(ctx: Context) {
      const { user, loginTs } = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      const form = guarded(ctx, accountForms.password).body;
      const refused = (e: AppError) => this.passwordForm(ctx, { field: PASSWORD_FIELD[e.code], text: errorWords(t, e) }, e.status);
      if (form.new_password !== form.confirm_password) return this.passwordForm(ctx, { field: 'confirm_password', text: t('account:password.mismatch') }, 400);
      if (!user.password_hash) {
        // no current password to prove it is the owner: a recent sign-in instead
        if (Math.floor(Date.now() / 1000) - loginTs > RECENT_SIGN_IN_SECONDS) return deps.session.signIn(ctx, '/account/password', true);
        try {
          await deps.lifecycle.setFirstPassword(user, form.new_password, requestOrigin(ctx));
        } catch (e) {
          if (e instanceof AppError && e.status < 500) return refused(e);
          throw e;
        }
        return back(ctx, '/account/password', 'password-set');
      }
      const wait = await retryAfter([[changeLimit, user.id]]);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        return this.passwordForm(ctx, { text: t('account:password.tooMany', { count: Math.ceil(wait / 60) }) }, 429);
      }
      try {
        await deps.lifecycle.changePassword(user, form.current_password, form.new_password, requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.code === 'wrong_password') await recordFailure([[changeLimit, user.id]]);
        if (e instanceof AppError && e.status === 400) return refused(e);
        throw e;
      }
      await changeLimit.delete(user.id);
      // every session ended with the change, this one too
      deps.page(ctx, 'account/notice', {
        title: t('account:password.changedTitle'), heading: t('account:password.changedTitle'), message: t('account:password.changedMessage'),
        link: '/account', linkText: t('account:password.signIn'),
      });
    },

    emailForm(ctx: Context, problem?: { field?: boolean; text: string; typed?: string }, status = 200) {
      const { user } = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      deps.page(ctx, 'account/email', {
        title: t('account:email.title'), user, notice: noticeOf(ctx),
        error: problem && !problem.field ? problem.text : undefined, fieldError: problem?.field ? problem.text : undefined, typed: problem?.typed,
      }, status);
    },
    async requestEmailChange(ctx: Context) {
      const { user } = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      const { email } = guarded(ctx, accountForms.email).body;
      try {
        await deps.lifecycle.requestEmailChange(user, email, requestOrigin(ctx));
      } catch (e) {
        if (e instanceof AppError && e.status < 500) return this.emailForm(ctx, { field: true, text: errorWords(t, e), typed: email }, 400);
        throw e;
      }
      deps.page(ctx, 'account/code', {
        title: t('account:email.confirmTitle'), heading: t('account:email.confirmHeading'),
        message: t('account:email.confirmMessage', { email }), action: '/account/email/confirm',
      });
    },
    async confirmEmailChange(ctx: Context) {
      const user = await deps.lifecycle.confirmEmailChange(mailedSecret(ctx), requestOrigin(ctx));
      if (!user) {
        const t = translatorFor(deps, ctx);
        return deps.page(ctx, 'account/notice', {
          title: t('account:email.invalidTitle'), heading: t('account:email.invalidHeading'), message: t('account:email.changeInvalid'),
          link: '/account/email', linkText: t('account:email.backToEmail'),
        }, 400);
      }
      back(ctx, '/account/email', 'email-changed'); // the page shows the new address
    },

    async verifyEmail(ctx: Context) {
      const user = await deps.lifecycle.verifyEmail(mailedSecret(ctx), requestOrigin(ctx));
      const t = translatorFor(deps, ctx);
      if (!user) {
        return deps.page(ctx, 'account/notice', {
          title: t('account:email.invalidTitle'), heading: t('account:email.invalidHeading'), message: t('account:email.verifyInvalid'),
          link: '/account/email', linkText: t('account:email.backToEmail'),
        }, 400);
      }
      return deps.page(ctx, 'account/notice', {
        title: t('account:email.verifiedTitle'), heading: t('account:email.verifiedTitle'), message: t('account:email.verifiedMessage', { email: user.email }),
        link: '/account', linkText: t('account:email.goToAccount'), done: true,
      });
    },
    async resendVerification(ctx: Context) {
      const { user } = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      if (user.email_verified) return back(ctx, '/account/email', 'email-already-verified');
      const wait = await retryAfter([[resendLimit, user.id]]);
      if (wait > 0) { ctx.set('Retry-After', String(wait)); return this.emailForm(ctx, { text: t('account:email.tooMany', { count: Math.ceil(wait / 60) }) }, 429); }
      await recordFailure([[resendLimit, user.id]]);
      await deps.lifecycle.sendVerification(user);
      deps.page(ctx, 'account/code', {
        title: t('account:email.verifyTitle'), heading: t('account:email.verifyHeading'), message: t('account:email.verifyMessage', { email: user.email }),
        action: '/account/verify-email',
      });
    },
  };
}
