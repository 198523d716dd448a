// Second factors: enrol TOTP (QR + first code), passkeys, recovery codes; removing one needs a
// recent sign-in (the router enforces it).
import type { Context } from 'koa';
import { requestOrigin } from '../../audit/audit.ts';
import { guarded } from '../../http/guard.ts';
import { back, noticeOf, translatorFor, withNotice, type AccountPageDeps } from './page-deps.ts';
import { accountForms } from './account-forms.ts';
import { viewerOf } from './account-sign-in.ts';

export function createSecurityHandlers(deps: AccountPageDeps) {
  const { mfa } = deps;

  async function show(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { user } = viewerOf(ctx);
    const [totp, passkeys, remaining] = await Promise.all([mfa.totp.status(user.id), mfa.webauthn.list(user.id), mfa.recovery.remaining(user.id)]);
    const secret = totp === 'pending' ? await mfa.totp.pendingSecret(user.id) : undefined;
    // the key typed by hand, in groups of four ("JBSW Y3DP …"); apps ignore the spaces
    const pending = secret ? { ...secret, groupedSecret: secret.secret.replace(/\s+/g, '').match(/.{1,4}/g)!.join(' ') } : undefined;
    deps.page(ctx, 'account/security', {
      title: translatorFor(deps, ctx)('account:security.title'), notice: noticeOf(ctx), totp, pending, passkeys, remaining,
      // recovery codes come with the first second factor: before it, no "0 unused codes"
      hasSecondFactor: totp === 'active' || passkeys.length > 0,
      mfaRequired: user.mfa_required, ...extra,
    }, status);
  }

  /** The codes, shown once: to copy, download as a text file or print. */
  function recoveryCodesPage(ctx: Context, codes: string[]) {
    const { user } = viewerOf(ctx);
    const t = translatorFor(deps, ctx);
    const file = [t('account:recoveryCodes.fileHeading', { brand: deps.views.brand.name, email: user.email }), t('account:recoveryCodes.fileNote'), '', ...codes, ''].join('\r\n');
    deps.page(ctx, 'account/recovery-codes', {
      title: t('account:recoveryCodes.title'), codes, current: '/account/security',
      download: { href: `data:text/plain;charset=utf-8,${encodeURIComponent(file)}`, name: t('account:recoveryCodes.fileName') },
    });
  }

  const event = (ctx: Context, type: string, data: Record<string, unknown> = {}) => {
    const { user } = viewerOf(ctx);
    return deps.audit.record({ type, actorId: user.id, subjectId: user.id, ...requestOrigin(ctx), data });
  };

  return {
    show: (ctx: Context) => show(ctx),

    async totpBegin(ctx: Context) {
      const { user } = viewerOf(ctx);
      if ((await mfa.totp.status(user.id)) === 'active') return back(ctx, '/account/security', 'totp-already-active');
      await mfa.totp.begin(user.id, user.email);
      back(ctx, '/account/security');
    },
    async totpConfirm(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (!(await mfa.totp.check(user.id, guarded(ctx, accountForms.code).body.code, { confirming: true }))) {
        return show(ctx, { codeError: translatorFor(deps, ctx)('account:security.totp.wrongCode') }, 400);
      }
      await event(ctx, 'mfa.enrolled', { factor: 'totp' });
      const codes = (await mfa.recovery.remaining(user.id)) === 0 ? await mfa.recovery.regenerate(user.id) : undefined;
      if (codes) return recoveryCodesPage(ctx, codes);
      back(ctx, '/account/security', 'totp-on');
    },
    async totpRemove(ctx: Context) {
      const { user } = viewerOf(ctx);
      await mfa.totp.remove(user.id);
      await event(ctx, 'mfa.removed', { factor: 'totp' });
      back(ctx, '/account/security', 'totp-removed');
    },
    async recoveryRegenerate(ctx: Context) {
      const { user } = viewerOf(ctx);
      const codes = await mfa.recovery.regenerate(user.id);
      await event(ctx, 'mfa.recovery_codes_regenerated');
      recoveryCodesPage(ctx, codes);
    },
    async passkeyOptions(ctx: Context) {
      const { user } = viewerOf(ctx);
      ctx.body = await mfa.webauthn.registrationOptions(user);
    },
    async passkeyRegister(ctx: Context) {
      const { user } = viewerOf(ctx);
      const { body } = guarded(ctx, accountForms.passkey);
      // the browser's answer is checked by @simplewebauthn (a malformed one is a failed registration)
      const t = translatorFor(deps, ctx);
      const ok = await mfa.webauthn.register(user.id, body.response as never, body.name || t('account:security.passkeys.defaultName'));
      if (!ok) { ctx.status = 400; ctx.body = { error: 'passkey_failed', message: t('account:security.passkeys.failed') }; return; }
      await event(ctx, 'mfa.enrolled', { factor: 'passkey' });
      if ((await mfa.recovery.remaining(user.id)) === 0) await mfa.recovery.regenerate(user.id);
      ctx.body = { redirect: withNotice('/account/security', 'passkey-added') };
    },
    async passkeyRemove(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (await mfa.webauthn.remove(user.id, guarded(ctx, accountForms.passkeyId).params.id)) await event(ctx, 'mfa.removed', { factor: 'passkey' });
      back(ctx, '/account/security', 'passkey-removed');
    },
  };
}
