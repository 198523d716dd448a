// Profile: name, picture, locale (the same rules as PATCH /api/me).
import type { Context } from 'koa';
import { profilePatch } from '../profile.service.ts';
import { firstProblem, guarded } from '../../http/guard.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { back, noticeOf, type AccountPageDeps } from './page-deps.ts';
import { accountForms, PROFILE_FIELDS } from './account-forms.ts';
import { viewerOf } from './account-sign-in.ts';

export function createProfileHandlers(deps: AccountPageDeps) {
  return {
    async show(ctx: Context, extra: { error?: string; values?: Record<string, unknown> } = {}, status = 200) {
      const { user } = viewerOf(ctx);
      // you can always see when support acted as you, and why
      const impersonations = await deps.impersonation.historyFor(user.id);
      deps.page(ctx, 'account/profile', { title: 'Your account', notice: noticeOf(ctx), error: extra.error, values: extra.values ?? user, user, impersonations }, status);
    },
    async save(ctx: Context) {
      const { user } = viewerOf(ctx);
      const { body } = guarded(ctx, accountForms.profile);
      const input = Object.fromEntries(PROFILE_FIELDS.map((k) => [k, (body[k] ?? '').trim() || null]));
      // a field that breaks the rules: the form again, with what was typed and why
      const parsed = profilePatch.safeParse(input);
      if (!parsed.success) return this.show(ctx, { error: firstProblem(parsed.error), values: input }, 400);
      await deps.profile.update(user.id, parsed.data, { actorId: user.id, ...requestOrigin(ctx) });
      back(ctx, '/account', 'profile-saved');
    },
  };
}
