// Second factors: enrol TOTP (QR + first code), passkeys, recovery codes; removing one needs a
// recent sign-in (the router enforces it).
import type { Context } from 'koa';
import { requestOrigin } from '../../audit/audit.ts';
import { accountPage, back, noticeOf, type AccountDeps } from './page-deps.ts';
import { viewerOf } from './account-sign-in.ts';

const field = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)?.[name] ?? '');

export function createSecurityHandlers(deps: AccountDeps) {
  const { mfa } = deps;

  async function show(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { user } = viewerOf(ctx);
    const [totp, passkeys, remaining] = await Promise.all([mfa.totp.status(user.id), mfa.webauthn.list(user.id), mfa.recovery.remaining(user.id)]);
    const pending = totp === 'pending' ? await mfa.totp.pendingSecret(user.id) : undefined;
    accountPage(deps, ctx, 'account/security', {
      title: 'Security', notice: noticeOf(ctx), totp, pending, passkeys, remaining, mfaRequired: user.mfa_required, ...extra,
    }, status);
  }

  const event = (ctx: Context, type: string, data: Record<string, unknown> = {}) => {
    const { user } = viewerOf(ctx);
    return deps.audit.record({ type, actorId: user.id, subjectId: user.id, ...requestOrigin(ctx), data });
  };

  return {
    show: (ctx: Context) => show(ctx),

    async totpBegin(ctx: Context) {
      const { user } = viewerOf(ctx);
      if ((await mfa.totp.status(user.id)) === 'active') return back(ctx, '/account/security', 'Your authenticator app is already set up.');
      await mfa.totp.begin(user.id, user.email);
      back(ctx, '/account/security');
    },
    async totpConfirm(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (!(await mfa.totp.check(user.id, field(ctx, 'code'), { confirming: true }))) {
        return show(ctx, { error: 'That code is not right. Enter the current 6-digit code from your app.' }, 400);
      }
      await event(ctx, 'mfa.enrolled', { factor: 'totp' });
      const codes = (await mfa.recovery.remaining(user.id)) === 0 ? await mfa.recovery.regenerate(user.id) : undefined;
      if (codes) return accountPage(deps, ctx, 'account/recovery-codes', { title: 'Save your recovery codes', codes });
      back(ctx, '/account/security', 'Two-step verification is on.');
    },
    async totpRemove(ctx: Context) {
      const { user } = viewerOf(ctx);
      await mfa.totp.remove(user.id);
      await event(ctx, 'mfa.removed', { factor: 'totp' });
      back(ctx, '/account/security', 'The authenticator app was removed.');
    },
    async recoveryRegenerate(ctx: Context) {
      const { user } = viewerOf(ctx);
      const codes = await mfa.recovery.regenerate(user.id);
      await event(ctx, 'mfa.recovery_codes_regenerated');
      accountPage(deps, ctx, 'account/recovery-codes', { title: 'Save your recovery codes', codes });
    },
    async passkeyOptions(ctx: Context) {
      const { user } = viewerOf(ctx);
      ctx.body = await mfa.webauthn.registrationOptions(user);
    },
    async passkeyRegister(ctx: Context) {
      const { user } = viewerOf(ctx);
      const body = ctx.request.body as { response?: unknown; name?: unknown };
      const ok = await mfa.webauthn.register(user.id, body.response as never, typeof body.name === 'string' ? body.name.trim() : 'Passkey');
      if (!ok) { ctx.status = 400; ctx.body = { error: 'passkey_failed', message: 'That passkey could not be registered. Try again.' }; return; }
      await event(ctx, 'mfa.enrolled', { factor: 'passkey' });
      if ((await mfa.recovery.remaining(user.id)) === 0) await mfa.recovery.regenerate(user.id);
      ctx.body = { redirect: '/account/security?notice=Passkey%20added.' };
    },
    async passkeyRemove(ctx: Context) {
      const { user } = viewerOf(ctx);
      if (await mfa.webauthn.remove(user.id, String(ctx.params.id))) await event(ctx, 'mfa.removed', { factor: 'passkey' });
      back(ctx, '/account/security', 'The passkey was removed.');
    },
  };
}
