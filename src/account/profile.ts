// Profile: name, picture, locale (the same rules as PATCH /api/me).
import type { Context } from 'koa';
import { profilePatch } from '../api/me.ts';
import { requestOrigin } from '../audit/audit.ts';
import { accountPage, back, noticeOf, type AccountDeps } from './context.ts';
import { viewerOf } from './session.ts';

export function createProfileHandlers(deps: AccountDeps) {
  return {
    async show(ctx: Context, extra: { error?: string; values?: Record<string, unknown> } = {}, status = 200) {
      const { user } = viewerOf(ctx);
      // you can always see when support acted as you, and why
      const impersonations = await deps.impersonation.historyFor(user.id);
      accountPage(deps, ctx, 'account/profile', { title: 'Your account', notice: noticeOf(ctx), error: extra.error, values: extra.values ?? user, user, impersonations }, status);
    },
    async save(ctx: Context) {
      const { user } = viewerOf(ctx);
      const body = ctx.request.body as Record<string, string>;
      const input = Object.fromEntries(['name', 'given_name', 'family_name', 'picture', 'locale'].map((k) => [k, (body[k] ?? '').trim() || null]));
      const parsed = profilePatch.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return this.show(ctx, { error: `${issue.path.join('.')}: ${issue.message}`, values: input }, 400);
      }
      await deps.knex.transaction(async (trx) => {
        await trx('users').where({ id: user.id }).update({ ...parsed.data, updated_at: trx.fn.now() });
        await deps.audit.record({ type: 'profile.updated', actorId: user.id, subjectId: user.id, ...requestOrigin(ctx), data: { fields: Object.keys(parsed.data) } }, trx);
      });
      back(ctx, '/account', 'Profile saved.');
    },
  };
}
