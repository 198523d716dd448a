// Profile: name, picture, language (the same rules as PATCH /api/me). A field that breaks the rules
// is marked on the form with a sentence saying what to type instead.
import type { Context } from 'koa';
import { profilePatch } from '../profile.service.ts';
import { guarded } from '../../http/guard.ts';
import { requestOrigin } from '../../audit/audit.ts';
import { LANGUAGE_NAMES, LANGUAGES } from '../../render/i18n.ts';
import { back, noticeOf, translatorFor, type AccountPageDeps } from './page-deps.ts';
import { accountForms, PROFILE_FIELDS } from './account-forms.ts';
import { viewerOf } from './account-sign-in.ts';

type Field = typeof PROFILE_FIELDS[number];
const ERROR_KEYS: Record<Field, string> = {
  name: 'account:profile.errors.name', given_name: 'account:profile.errors.given_name', family_name: 'account:profile.errors.family_name',
  picture: 'account:profile.errors.picture', locale: 'account:profile.errors.locale',
};

export function createProfileHandlers(deps: AccountPageDeps) {
  return {
    async show(ctx: Context, extra: { errors?: Partial<Record<Field, string>>; values?: Record<string, unknown> } = {}, status = 200) {
      const { user } = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      // you can always see when support acted as you, and why
      const impersonations = await deps.impersonation.historyFor(user.id);
      const values = extra.values ?? user;
      // the shipped languages by their own names; a tag set elsewhere (PATCH /api/me) stays choosable
      const languages: Array<{ tag: string; name: string }> = LANGUAGES.map((tag) => ({ tag, name: LANGUAGE_NAMES[tag] }));
      for (const tag of [user.locale, values.locale]) {
        if (typeof tag === 'string' && tag && !languages.some((l) => l.tag === tag)) languages.push({ tag, name: tag });
      }
      deps.page(ctx, 'account/profile', {
        title: t('account:profile.title'), notice: noticeOf(ctx), errors: extra.errors, values, user, impersonations, languages,
      }, status);
    },
    async save(ctx: Context) {
      const { user } = viewerOf(ctx);
      const { body } = guarded(ctx, accountForms.profile);
      const input = Object.fromEntries(PROFILE_FIELDS.map((k) => [k, (body[k] ?? '').trim() || null])) as Record<Field, string | null>;
      const t = translatorFor(deps, ctx);
      const errors: Partial<Record<Field, string>> = {};
      // the language comes from the list (or stays what it was)
      if (input.locale && !(LANGUAGES as readonly string[]).includes(input.locale) && input.locale !== user.locale) errors.locale = t(ERROR_KEYS.locale);
      const parsed = profilePatch.safeParse(input);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const f = issue.path[0] as Field;
          if (f in ERROR_KEYS && !errors[f]) errors[f] = t(ERROR_KEYS[f]);
        }
      }
      // a field that breaks the rules: the form again, with what was typed and, on the field, why
      if (!parsed.success || Object.keys(errors).length) return this.show(ctx, { errors, values: input }, 400);
      await deps.profile.update(user.id, parsed.data, { actorId: user.id, ...requestOrigin(ctx) });
      back(ctx, '/account', 'profile-saved');
    },
  };
}
