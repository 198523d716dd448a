// After the password, for users imported with an unsalted fast hash (MD5, SHA-1, plain SHA-256;
// issue 15): the old password was right, but it was stored so weakly that it must be treated as
// known to others. One page asks for a new one; then the sign-in goes on (second factor, finish).
// The state between the two requests lives in the short-lived store, keyed by the interaction.
import type { Context } from 'koa';
import { z } from 'zod';
import { parseOr400 } from '../http/guard.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { requestOrigin } from '../audit/audit.ts';
import { AppError } from '../errors/app-error.ts';
import { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.ts';
import type { SecondFactor } from './second-factor.ts';
import { loadInteraction, PROMPTS, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';

/** As long as the other steps of a sign-in may wait (src/interactions/second-factor.ts). */
const PENDING_TTL_SECONDS = 10 * 60;

const body = z.object({ new_password: z.string().max(1024).default(''), confirm_password: z.string().max(1024).default('') });

export function createNewPasswordStep(deps: InteractionHandlerDeps, secondFactor: SecondFactor) {
  const store = deps.adapters('PendingNewPassword');
  const go = (ctx: Context, path: string) => { ctx.redirect(path); ctx.status = 303; };

  function show(ctx: Context, details: Details, user: UserRow, error?: string, status = 200) {
    deps.page(ctx, 'new-password', {
      title: translatorFor(deps, ctx)('signin:newPassword.title'), email: user.email, error, action: `/interaction/${details.uid}/new-password`,
      abortUrl: `/interaction/${details.uid}/abort`,
    }, status);
  }

  /** The account service's refusal, in the page's language. */
  function problemText(ctx: Context, e: AppError, password: string, email: string): string {
    const t = translatorFor(deps, ctx);
    if (e.code === 'same_password') return t('signin:newPassword.same');
    const problem = e.code === 'weak_password' ? checkPasswordPolicy(password, email) : undefined;
    return problem ? t(`signin:password.${problem}`, { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH }) : e.message;
  }

  async function pending(ctx: Context): Promise<{ details: Details; user: UserRow } | undefined> {
    const details = await loadInteraction(deps, ctx, PROMPTS.login);
    const found = await store.find(details.uid) as { accountId?: string } | undefined;
    const user = found?.accountId ? await deps.accounts.findActive(found.accountId) : undefined;
    if (!user) { go(ctx, `/interaction/${details.uid}`); return undefined; }
    return { details, user };
  }

  return {
    /** The password was right and a new one is due: ask for it before anything else. */
    async begin(ctx: Context, details: Details, user: UserRow): Promise<void> {
      await store.upsert(details.uid, { accountId: user.id }, PENDING_TTL_SECONDS);
      go(ctx, `/interaction/${details.uid}/new-password`);
    },

    async form(ctx: Context) {
      const p = await pending(ctx); if (!p) return;
      show(ctx, p.details, p.user);
    },

    async submit(ctx: Context) {
      const p = await pending(ctx); if (!p) return;
      const { new_password: next, confirm_password: confirm } = parseOr400(body, ctx.request.body ?? {});
      if (next !== confirm) return show(ctx, p.details, p.user, translatorFor(deps, ctx)('signin:newPassword.mismatch'), 400);
      try {
        await deps.accounts.replaceRequiredPassword(p.user, next, (trx) =>
          deps.audit.record({ type: 'password.changed', actorId: p.user.id, subjectId: p.user.id, ...requestOrigin(ctx), data: { required: true } }, trx));
      } catch (e) {
        if (e instanceof AppError && e.status === 400) return show(ctx, p.details, p.user, problemText(ctx, e, next, p.user.email), 400);
        throw e;
      }
      await store.destroy(p.details.uid);
      const user = (await deps.accounts.findActive(p.user.id)) ?? p.user;
      await secondFactor.afterPrimary(ctx, p.details, user, ['pwd']);
    },
  };
}
export type NewPasswordStep = ReturnType<typeof createNewPasswordStep>;
