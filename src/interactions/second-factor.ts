// After the password: the steps a sign-in may still need, in this order —
//   1. a verified email, when the client requires one (a mailed code)
//   2. a second factor, when the account has one, or the account, the client or acr_values=mfa require one
//   3. finish, with amr/acr saying what was used.
// The state between steps lives in the short-lived store, keyed by the interaction.
import type { Context } from 'koa';
import { z } from 'zod';
import { parseOr400 } from '../http/guard.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { MFA_LIMITS, recordFailure, retryAfter } from '../security/rate-limit.ts';
import { requestOrigin } from '../audit/audit.ts';
import { clientIp, finish, loadInteraction, PROMPTS, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';
import { requestNeedsMfa } from '../oidc/acr.ts';

const PENDING_TTL_SECONDS = 10 * 60;

export interface PendingLogin {
  accountId: string; amr: string[]; step: 'verify' | 'mfa' | 'enrol' | 'enrolled';
  /** signed in through an upstream provider (src/federation/): `mfa` when its second factor counts here (trust_mfa) */
  upstream?: { provider: string; mfa: boolean };
}

const codeBody = z.object({ method: z.enum(['totp', 'recovery']).default('totp'), code: z.string().max(64).default('') });
/** A mailed or authenticator code on its own (email verification, TOTP enrolment). */
const singleCodeBody = z.object({ code: z.string().max(64).default('') });
/** A passkey assertion (WebAuthn AuthenticationResponseJSON): checked in full by src/mfa/webauthn.ts. */
const passkeyBody = z.looseObject({ id: z.string() });

/** The code a form carries; one that cannot be a code reads as a wrong one (the form says so and re-renders). */
const typedCode = (body: unknown): string => {
  const parsed = singleCodeBody.safeParse(body ?? {});
  return parsed.success ? parsed.data.code : '';
};

async function clientMetadata(deps: InteractionHandlerDeps, clientId: unknown): Promise<Record<string, unknown>> {
  return (typeof clientId === 'string' ? await deps.oidc.clientMetadata(clientId) : undefined) ?? {};
}


export function createSecondFactor(deps: InteractionHandlerDeps) {
  const store = deps.adapters('PendingLogin');
  const limits = { account: deps.limiters(MFA_LIMITS.account), ipAccount: deps.limiters(MFA_LIMITS.ipAccount), device: deps.limiters(MFA_LIMITS.device) };
  const { devices } = deps;
  const go = (ctx: Context, path: string) => { ctx.redirect(path); ctx.status = 303; };
  const t = (ctx: Context, key: string, vars?: Record<string, unknown>) => translatorFor(deps, ctx)(key, vars);

  async function complete(ctx: Context, details: Details, pending: PendingLogin, extraAmr: string[]) {
    await store.destroy(details.uid);
    const amr = [...new Set([...pending.amr, ...extraAmr])];
    const mfa = extraAmr.length > 0 || pending.upstream?.mfa === true;
    if (mfa && !amr.includes('mfa')) amr.push('mfa');
    // a sign-in that proved an account for an upstream identity links it now (src/federation/)
    await deps.upstream?.signedIn(ctx, details, pending.accountId);
    // a complete sign-in: this browser is now known for the account (src/security/device-cookie.ts)
    const user = await deps.accounts.findById(pending.accountId);
    if (user) devices.remember(ctx, user.email_normalized);
    await deps.audit.record({ type: 'signin.succeeded', actorId: pending.accountId, subjectId: pending.accountId, clientId: String(details.params.client_id ?? ''), ...requestOrigin(ctx), data: { amr, ...(pending.upstream ? { method: 'upstream', provider: pending.upstream.provider } : {}) } });
    const acr = mfa ? 'mfa' : pending.upstream ? 'fed' : 'pwd';
    await finish(deps, ctx, { login: { accountId: pending.accountId, amr, acr, remember: true } }, false);
  }

  /** Decides the next step for a signed-in account, or finishes. */
  async function next(ctx: Context, details: Details, pending: PendingLogin): Promise<void> {
    const user = await deps.accounts.findActive(pending.accountId);
    if (!user) throw new Error('account vanished during sign-in');
    const client = await clientMetadata(deps, details.params.client_id);
    if (client.require_email_verification === true && !user.email_verified) {
      await store.upsert(details.uid, { ...pending, step: 'verify' }, PENDING_TTL_SECONDS);
      await deps.lifecycle.sendVerification(user);
      return go(ctx, `/interaction/${details.uid}/verify-email`);
    }
    const factors = await deps.mfa.factors(user.id);
    const required = user.mfa_required || client.require_mfa === true || requestNeedsMfa(details.params); // acr_values is a preference list (src/oidc/acr.ts)
    // an upstream second factor the provider is trusted for counts as this one (trust_mfa)
    if (pending.upstream?.mfa) return complete(ctx, details, pending, []);
    if (factors.any) {
      await store.upsert(details.uid, { ...pending, step: 'mfa' }, PENDING_TTL_SECONDS);
      return go(ctx, `/interaction/${details.uid}/mfa`);
    }
    if (required) {
      await store.upsert(details.uid, { ...pending, step: 'enrol' }, PENDING_TTL_SECONDS);
      return go(ctx, `/interaction/${details.uid}/mfa-setup`);
    }
    return complete(ctx, details, pending, []);
  }

  async function pendingFor(ctx: Context, step: PendingLogin['step']): Promise<{ details: Details; pending: PendingLogin } | undefined> {
    const details = await loadInteraction(deps, ctx, PROMPTS.login);
    const pending = await store.find(details.uid) as PendingLogin | undefined;
    if (!pending || pending.step !== step) { go(ctx, `/interaction/${details.uid}`); return undefined; }
    return { details, pending };
  }

  async function showMfa(ctx: Context, details: Details, user: UserRow, error?: string, status = 200) {
    const factors = await deps.mfa.factors(user.id);
    deps.page(ctx, 'mfa', {
      title: t(ctx, 'signin:mfa.title'), error, email: user.email, totp: factors.totp, passkeys: factors.passkeys > 0,
      action: `/interaction/${details.uid}/mfa`, passkeyOptionsUrl: `/interaction/${details.uid}/mfa/passkey-options`,
      passkeyUrl: `/interaction/${details.uid}/mfa/passkey`,
    }, status);
  }

  return {
    /** Called by every primary sign-in path (password, sign-up code) once the account is known. */
    afterPrimary: (ctx: Context, details: Details, user: UserRow, amr: string[], upstream?: PendingLogin['upstream']) =>
      next(ctx, details, { accountId: user.id, amr, step: 'mfa', ...(upstream ? { upstream } : {}) }),

    /** Step-up: signed in already, but this request wants MFA (acr_values=mfa or client policy). */
    stepUp: (ctx: Context, details: Details, accountId: string) => next(ctx, details, { accountId, amr: ['pwd'], step: 'mfa' }),

    async mfaForm(ctx: Context) {
      const p = await pendingFor(ctx, 'mfa'); if (!p) return;
      const user = await deps.accounts.findActive(p.pending.accountId);
      if (!user) return go(ctx, `/interaction/${p.details.uid}`);
      await showMfa(ctx, p.details, user);
    },

    async mfaSubmit(ctx: Context) {
      const p = await pendingFor(ctx, 'mfa'); if (!p) return;
      const user = await deps.accounts.findActive(p.pending.accountId);
      if (!user) return go(ctx, `/interaction/${p.details.uid}`);
      const { method, code } = parseOr400(codeBody, ctx.request.body ?? {});
      // a browser that completed a sign-in to this account before has its own limit instead of the
      // account-wide one, so wrong codes sent from elsewhere cannot keep the owner's browser out
      const device = devices.idFor(ctx, user.email_normalized);
      const ipAccount = `${clientIp(ctx)}|${user.id}`;
      const checks: Array<[typeof limits.account, string]> = device ? [[limits.device, device]] : [[limits.ipAccount, ipAccount], [limits.account, user.id]];
      const wait = await retryAfter(checks);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        await deps.audit.record({ type: 'mfa.locked_out', subjectId: user.id, ...requestOrigin(ctx) });
        return showMfa(ctx, p.details, user, t(ctx, 'signin:mfa.tooMany', { count: Math.ceil(wait / 60) }), 429);
      }
      const ok = method === 'recovery' ? await deps.mfa.recovery.redeem(user.id, code) : await deps.mfa.totp.check(user.id, code);
      if (!ok) {
        await recordFailure(checks);
        await deps.audit.record({ type: 'mfa.failed', subjectId: user.id, ...requestOrigin(ctx), data: { method } });
        return showMfa(ctx, p.details, user, t(ctx, method === 'recovery' ? 'signin:mfa.wrongRecovery' : 'signin:mfa.wrongTotp'), 401);
      }
      await (device ? limits.device.delete(device) : limits.ipAccount.delete(ipAccount));
      if (method === 'recovery') {
        await deps.audit.record({ type: 'mfa.recovery_code_used', actorId: user.id, subjectId: user.id, ...requestOrigin(ctx), data: { remaining: await deps.mfa.recovery.remaining(user.id) } });
      }
      await complete(ctx, p.details, p.pending, method === 'recovery' ? ['kba'] : ['otp']);
    },

    async passkeyOptions(ctx: Context) {
      const p = await pendingFor(ctx, 'mfa'); if (!p) return;
      ctx.body = await deps.mfa.webauthn.authenticationOptions(p.pending.accountId, p.details.uid);
    },

    async passkeySubmit(ctx: Context) {
      const p = await pendingFor(ctx, 'mfa'); if (!p) return;
      const assertion = passkeyBody.safeParse(ctx.request.body ?? {});
      const ok = assertion.success && await deps.mfa.webauthn.authenticate(p.pending.accountId, p.details.uid, assertion.data as never);
      if (!ok) {
        await deps.audit.record({ type: 'mfa.failed', subjectId: p.pending.accountId, ...requestOrigin(ctx), data: { method: 'passkey' } });
        ctx.status = 401; ctx.body = { error: 'passkey_failed', message: t(ctx, 'signin:mfa.passkeyFailed') };
        return;
      }
      await complete(ctx, p.details, p.pending, ['hwk']);
      // the browser script follows the redirect itself
      ctx.body = { redirect: ctx.response.get('location') };
      ctx.status = 200;
    },

    async verifyEmailForm(ctx: Context) {
      const p = await pendingFor(ctx, 'verify'); if (!p) return;
      const user = await deps.accounts.findById(p.pending.accountId);
      deps.page(ctx, 'verify-email', { title: t(ctx, 'signin:verifyEmail.title'), email: user?.email, action: `/interaction/${p.details.uid}/verify-email` });
    },

    async verifyEmailSubmit(ctx: Context) {
      const p = await pendingFor(ctx, 'verify'); if (!p) return;
      const code = typedCode(ctx.request.body);
      const user = await deps.lifecycle.verifyEmail({ userId: p.pending.accountId, code }, requestOrigin(ctx));
      if (!user) {
        const u = await deps.accounts.findById(p.pending.accountId);
        return deps.page(ctx, 'verify-email', { title: t(ctx, 'signin:verifyEmail.title'), email: u?.email, error: t(ctx, 'signin:verify.wrongCode'), action: `/interaction/${p.details.uid}/verify-email` }, 400);
      }
      await next(ctx, p.details, { ...p.pending, step: 'mfa' });
    },

    async setupForm(ctx: Context) {
      const p = await pendingFor(ctx, 'enrol'); if (!p) return;
      const user = await deps.accounts.findActive(p.pending.accountId);
      if (!user) return go(ctx, `/interaction/${p.details.uid}`);
      const enrol = (await deps.mfa.totp.pendingSecret(user.id)) ?? (await deps.mfa.totp.begin(user.id, user.email));
      deps.page(ctx, 'mfa-setup', { title: t(ctx, 'signin:mfaSetup.title'), qr: enrol.qrDataUrl, secret: enrol.secret, action: `/interaction/${p.details.uid}/mfa-setup` });
    },

    async setupSubmit(ctx: Context) {
      const p = await pendingFor(ctx, 'enrol'); if (!p) return;
      const user = await deps.accounts.findActive(p.pending.accountId);
      if (!user) return go(ctx, `/interaction/${p.details.uid}`);
      const code = typedCode(ctx.request.body);
      if (!(await deps.mfa.totp.check(user.id, code, { confirming: true }))) {
        const enrol = (await deps.mfa.totp.pendingSecret(user.id))!;
        return deps.page(ctx, 'mfa-setup', { title: t(ctx, 'signin:mfaSetup.title'), qr: enrol.qrDataUrl, secret: enrol.secret, error: t(ctx, 'signin:mfaSetup.wrongCode'), action: `/interaction/${p.details.uid}/mfa-setup` }, 400);
      }
      const codes = await deps.mfa.recovery.regenerate(user.id);
      await deps.audit.record({ type: 'mfa.enrolled', actorId: user.id, subjectId: user.id, ...requestOrigin(ctx), data: { factor: 'totp' } });
      // the first code just proved the new factor: the sign-in completes once the codes are saved
      await store.upsert(p.details.uid, { ...p.pending, step: 'enrolled' }, PENDING_TTL_SECONDS);
      deps.page(ctx, 'recovery-codes', { title: t(ctx, 'signin:recoveryCodes.title'), codes, continueAction: `/interaction/${p.details.uid}/mfa-setup/done` });
    },

    async setupDone(ctx: Context) {
      const p = await pendingFor(ctx, 'enrolled'); if (!p) return;
      await complete(ctx, p.details, p.pending, ['otp']);
    },
  };
}
export type SecondFactor = ReturnType<typeof createSecondFactor>;
