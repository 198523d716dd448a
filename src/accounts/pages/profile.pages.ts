// Profile: name, picture, locale (the same rules as PATCH /api/me).
import type { Context } from 'koa';
import { z } from 'zod';
import { parseProfilePatch, updateProfile } from '../profile.service.ts';
import { AppError } from '../../errors/app-error.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { accountPage, back, noticeOf, type AccountDeps } from './page-deps.ts';
import { viewerOf } from './account-sign-in.ts';

const PROFILE_FIELDS = ['name', 'given_name', 'family_name', 'picture', 'locale'] as const;
/** The form as sent: text fields, each at most once (the rules on each are parseProfilePatch's). */
const profileForm = z.object(Object.fromEntries(PROFILE_FIELDS.map((k) => [k, z.string({ error: 'Send each field once, as text.' }).optional()])) as Record<typeof PROFILE_FIELDS[number], z.ZodOptional<z.ZodString>>);

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
      const body = profileForm.parse(ctx.request.body ?? {}); // a ZodError is a 400 page (src/http/middleware.ts)
      const input = Object.fromEntries(PROFILE_FIELDS.map((k) => [k, (body[k] ?? '').trim() || null]));
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
