// Profile: name, picture, locale (the same rules as PATCH /api/me).
import type { Context } from 'koa';
import { parseProfilePatch, updateProfile } from '../accounts/profile.ts';
import { AppError } from '../http/errors.ts';
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
      let patch;
      try { patch = parseProfilePatch(input); } catch (e) {
        if (e instanceof AppError) return this.show(ctx, { error: e.message, values: input }, 400);
        throw e;
      }
      await updateProfile(deps.knex, deps.audit, user.id, patch, { actorId: user.id, ...requestOrigin(ctx) });
      back(ctx, '/account', 'Profile saved.');
    },
  };
}
