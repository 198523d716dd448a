// Sign-in: one prompt (login), one job (check the password under the rate limits), then finish.
// Limits (src/security/rate-limit.ts): a browser with this account's device cookie counts its own
// failures; any other counts per IP+account and per account. Per IP applies to both.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'koa';
import { z } from 'zod';
import { parseOr400 } from '../http/guard.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { LOGIN_LIMITS, countOn, failureDelayMs, recordFailure, retryAfter } from '../security/rate-limit.ts';
import { countLockout, countSignInFailure } from '../observability/metrics.ts';
import { requestOrigin } from '../audit/audit.ts';
import type { SecondFactor } from './second-factor.ts';
import type { NewPasswordStep } from './new-password.ts';
import { appView, clientIp, loadInteraction, PROMPTS, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';

/**
 * "Forgot your password?": the account pages' reset (src/accounts/pages/) with this interaction, so
 * the reset can lead back to this sign-in, and the address the page knows (login_hint or the one
 * just typed), so it is prefilled.
 */
export function forgotUrl(uid: string, email: string): string {
  const query = new URLSearchParams({ interaction: uid });
  if (email) query.set('email', email);
  return `/account/forgot?${query}`;
}

const loginBody = z.object({ email: z.string().max(320).default(''), password: z.string().max(1024).default('') });

export function createLoginHandlers(deps: InteractionHandlerDeps, secondFactor: SecondFactor, newPassword?: NewPasswordStep) {
  const limits = {
    ipAccount: deps.limiters(LOGIN_LIMITS.ipAccount),
    account: deps.limiters(LOGIN_LIMITS.account),
    device: deps.limiters(LOGIN_LIMITS.device),
    ip: deps.limiters(LOGIN_LIMITS.ip),
  };
  const { devices } = deps;

  async function show(ctx: Context, details: Details, extra: { email?: string; error?: string } = {}, status = 200) {
    const upstream = await deps.upstream?.loginView(details);
    const app = await appView(deps, ctx, details);
    const t = translatorFor(deps, ctx);
    const email = extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : '');
    deps.page(ctx, 'login', {
      providers: upstream?.buttons ?? [],
      passwordSignIn: upstream?.passwordSignIn ?? true,
      linking: upstream?.linking,
      title: t('signin:login.title'),
      uid: details.uid,
      app,
      clientName: app.clientName,
      email,
      error: extra.error,
      action: `/interaction/${details.uid}/login`,
      // closed or invitation-only: no "Create an account" (src/interactions/signup.ts explains why at its URL)
      signupUrl: app.signupPolicy === 'open' ? `/interaction/${details.uid}/signup` : undefined,
      forgotUrl: forgotUrl(details.uid, email),
      abortUrl: `/interaction/${details.uid}/abort`,
    }, status);
  }

  return {
    show,

    async submit(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.login);
      const { email, password } = parseOr400(loginBody, ctx.request.body ?? {});
      // home-realm discovery: an address at a provider's domain signs in there (src/federation/)
      const elsewhere = await deps.upstream?.redirectFor(details, email);
      if (elsewhere) { ctx.status = 303; return ctx.redirect(elsewhere); }
      const view = await deps.upstream?.loginView(details);
      // proving an existing account for a pending link is a password sign-in, even where the app has
      // none — for that one account only, never a way around the app's rule for any other
      const provingLink = !!view?.linking && normalizeEmail(email) === normalizeEmail(view.linking.email);
      if (view && !view.passwordSignIn && !provingLink) {
        return show(ctx, details, { email, error: translatorFor(deps, ctx)('signin:login.noPasswords') }, 403);
      }
      const ip = clientIp(ctx);
      const account = normalizeEmail(email);
      const device = devices.idFor(ctx, account);
      // the account-wide counter is the one a guesser elsewhere drives: a known browser has its own instead
      const own: [typeof limits.ip, string] = device ? [limits.device, device] : [limits.account, account];
      const checks: Array<[typeof limits.ip, string]> = device
        ? [own, [limits.ip, ip]]
        : [[limits.ipAccount, `${ip}|${account}`], own, [limits.ip, ip]];
      const wait = await retryAfter(checks);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        countLockout();
        await deps.audit.record({ type: 'signin.locked_out', ...requestOrigin(ctx), data: { email: account, knownDevice: !!device } });
        return show(ctx, details, { email, error: translatorFor(deps, ctx)('signin:login.tooMany', { count: Math.ceil(wait / 60) }) }, 429);
      }
      const user = email && password ? await deps.accounts.authenticate(email, password) : undefined;
      if (!user) {
        await recordFailure(checks);
        const locked = (await retryAfter(checks)) > 0;
        countSignInFailure();
        await deps.audit.record({ type: 'signin.failed', ...requestOrigin(ctx), data: { email: account, locked } });
        deps.log.info({ event: 'login_failed', ip }, 'sign-in failed');
        // keyed by the typed address, so an unknown one is slowed exactly like a real one
        await sleep(failureDelayMs(await countOn(own[0], own[1])));
        return show(ctx, details, { email, error: translatorFor(deps, ctx)('signin:login.badPassword') }, 401);
      }
      await (device ? limits.device.delete(device) : limits.ipAccount.delete(`${ip}|${account}`));
      deps.log.info({ event: 'login_succeeded', sub: user.id }, 'signed in');
      // imported with an unsalted hash (issue 15): the right old password, and now a new one
      if (user.password_change_required && newPassword) return newPassword.begin(ctx, details, user);
      await secondFactor.afterPrimary(ctx, details, user, ['pwd']);
    },
  };
}
