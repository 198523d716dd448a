// Sign-in: one prompt (login), one job (check the password under the rate limits), then finish.
import type { Context } from 'koa';
import { z } from 'zod';
import { normalizeEmail } from '../accounts/email.ts';
import { LOGIN_LIMITS, recordFailure, retryAfter } from '../security/rate-limit.ts';
import { countLockout, countSignInFailure } from '../observability/metrics.ts';
import { requestOrigin } from '../audit/audit.ts';
import type { SecondFactor } from './second-factor.ts';
import { clientIp, clientName, loadInteraction, page, type Details, type InteractionDeps } from './context.ts';

const loginBody = z.object({ email: z.string().max(320).default(''), password: z.string().max(1024).default('') });

export function createLoginHandlers(deps: InteractionDeps, secondFactor: SecondFactor) {
  const limits = {
    ipAccount: deps.limiters(LOGIN_LIMITS.ipAccount),
    account: deps.limiters(LOGIN_LIMITS.account),
    ip: deps.limiters(LOGIN_LIMITS.ip),
  };

  async function show(ctx: Context, details: Details, extra: { email?: string; error?: string } = {}, status = 200) {
    page(deps, ctx, 'login', {
      title: 'Sign in',
      uid: details.uid,
      clientName: await clientName(deps, details.params.client_id),
      email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: extra.error,
      action: `/interaction/${details.uid}/login`,
      signupUrl: `/interaction/${details.uid}/signup`,
      abortUrl: `/interaction/${details.uid}/abort`,
    }, status);
  }

  return {
    show,

    async submit(ctx: Context) {
      const details = await loadInteraction(deps, ctx, 'login');
      const { email, password } = loginBody.parse(ctx.request.body ?? {});
      const ip = clientIp(ctx);
      const account = normalizeEmail(email);
      const checks: Array<[typeof limits.ip, string]> = [
        [limits.ipAccount, `${ip}|${account}`], [limits.account, account], [limits.ip, ip],
      ];
      const wait = await retryAfter(checks);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        countLockout();
        await deps.audit.record({ type: 'signin.locked_out', ...requestOrigin(ctx), data: { email: account } });
        return show(ctx, details, { email, error: `Too many attempts. Try again in ${Math.ceil(wait / 60)} minute(s), or reset your password.` }, 429);
      }
      const user = email && password ? await deps.accounts.authenticate(email, password) : undefined;
      if (!user) {
        const known = await recordFailure(checks);
        countSignInFailure();
        await deps.audit.record({ type: 'signin.failed', ...requestOrigin(ctx), data: { email: account, locked: known > 0 } });
        deps.log.info({ event: 'login_failed', ip }, 'sign-in failed');
        return show(ctx, details, { email, error: 'That email and password do not match an account.' }, 401);
      }
      await limits.ipAccount.delete(`${ip}|${account}`);
      deps.log.info({ event: 'login_succeeded', sub: user.id }, 'signed in');
      await secondFactor.afterPrimary(ctx, details, user, ['pwd']);
    },
  };
}
