// Sign-up without account enumeration: whatever the email, the user is asked for the code we
// mailed. A new address gets a code that creates the account (verified) and signs in; an address
// that already has an account gets a notice instead, and no code can succeed. The pending sign-up
// (with the password already hashed) lives in the provider's short-lived store, keyed by interaction.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import { parseOr400 } from '../http/guard.ts';
import { hashPassword } from '../accounts/password.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { SIGNUP_LIMITS, recordFailure, retryAfter } from '../security/rate-limit.ts';
import type { SecondFactor } from './second-factor.ts';
import { checkPasswordPolicy, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.ts';
import { appView, clientIp, loadInteraction, PROMPTS, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';
import type { AppView } from './app-view.ts';

const CODE_DIGITS = 6;
const CODE_TTL_SECONDS = 15 * 60;
/** 6 digits × 5 tries: a 1-in-200,000 chance for a guesser per mailed code. */
const MAX_CODE_ATTEMPTS = 5;

const signupBody = z.object({
  name: z.string().trim().max(200).default(''),
  email: z.string().max(320).default(''),
  password: z.string().max(1024).default(''),
});

/** The mailed code as typed (spaces allowed: they are removed). */
const verifyBody = z.object({ code: z.string().max(64).default('') });

interface Pending {
  email: string;
  name: string;
  passwordHash?: string; // absent when the address already has an account
  codeHash: string;
  attempts: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function createSignupHandlers(deps: InteractionHandlerDeps, secondFactor: SecondFactor) {
  const store = deps.adapters('PendingSignup');
  const ipLimit = deps.limiters(SIGNUP_LIMITS.ip);
  const addressLimit = deps.limiters(SIGNUP_LIMITS.email);

  async function showForm(ctx: Context, details: Details, extra: { name?: string; email?: string; error?: string } = {}, status = 200) {
    const app = await appView(deps, ctx, details);
    deps.page(ctx, 'signup', {
      title: translatorFor(deps, ctx)('signin:signup.title'),
      app,
      clientName: app.clientName,
      name: extra.name ?? '',
      email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: extra.error,
      action: `/interaction/${details.uid}/signup`,
      loginUrl: `/interaction/${details.uid}`,
    }, status);
  }

  function showVerify(ctx: Context, details: Details, pending: Pick<Pending, 'email'>, error?: string, status = 200) {
    deps.page(ctx, 'verify', {
      title: translatorFor(deps, ctx)('signin:verify.title'),
      email: pending.email,
      error,
      action: `/interaction/${details.uid}/verify`,
      restartUrl: `/interaction/${details.uid}/signup`,
    }, status);
  }

  const passwordsOffered = async (details: Details) => !deps.upstream || (await deps.upstream.loginView(details)).passwordSignIn;

  /**
   * Sign-up closed (GATEHOUSE_SIGNUP=closed, or the app's signup_policy) or by invitation only (new
   * accounts come from a workspace invitation's own page, /invitations/accept): a page that says so
   * and how to get access, instead of the form. 403: the form is not for this request.
   */
  function showClosed(ctx: Context, details: Details, app: AppView) {
    const t = translatorFor(deps, ctx);
    deps.page(ctx, 'signup-closed', {
      title: t(app.signupPolicy === 'invitation' ? 'signin:signup.invitationTitle' : 'signin:signup.closedTitle'),
      app, policy: app.signupPolicy, loginUrl: `/interaction/${details.uid}`,
    }, 403);
  }

  /** Whether this request's app lets people sign up here; else the closed page is already answered. */
  async function signupOpen(ctx: Context, details: Details): Promise<boolean> {
    const app = await appView(deps, ctx, details);
    if (app.signupPolicy === 'open') return true;
    showClosed(ctx, details, app);
    return false;
  }

  /** The account service's sentence for a bad address or password, in the page's language. */
  function problemText(ctx: Context, e: AppError, password: string, email: string): string {
    const t = translatorFor(deps, ctx);
    if (e.code === 'invalid_email') return t(email.length > 320 ? 'signin:signup.emailTooLong' : 'signin:signup.invalidEmail');
    const problem = e.code === 'weak_password' ? checkPasswordPolicy(password, email) : undefined;
    return problem ? t(`signin:password.${problem}`, { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH }) : e.message;
  }

  return {
    async form(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.login);
      // an app without passwords (password_sign_in: false) has no sign-up with one either
      if (!(await passwordsOffered(details))) { ctx.status = 303; return ctx.redirect(`/interaction/${details.uid}`); }
      if (!(await signupOpen(ctx, details))) return;
      await showForm(ctx, details);
    },

    async submit(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.login);
      if (!(await passwordsOffered(details))) {
        return showForm(ctx, details, { error: translatorFor(deps, ctx)('signin:signup.noPasswords') }, 403);
      }
      if (!(await signupOpen(ctx, details))) return;
      const input = parseOr400(signupBody, ctx.request.body ?? {});
      const ip = clientIp(ctx);
      const wait = await retryAfter([[ipLimit, ip]]);
      if (wait > 0) {
        ctx.set('Retry-After', String(wait));
        return showForm(ctx, details, { ...input, error: translatorFor(deps, ctx)('signin:signup.tooManyNetwork') }, 429);
      }
      let email: string;
      try {
        email = deps.accounts.parseEmail(input.email);
        deps.accounts.checkPassword(input.password, email);
      } catch (e) {
        if (e instanceof AppError) return showForm(ctx, details, { ...input, error: problemText(ctx, e, input.password, input.email) }, 400);
        throw e;
      }
      // each sign-up mails the address: a code, or a notice to its owner. Counted per address
      // whether or not an account has it, so the answer tells nothing either way.
      const address: [typeof ipLimit, string] = [addressLimit, normalizeEmail(email)];
      const addressWait = await retryAfter([address]);
      if (addressWait > 0) {
        ctx.set('Retry-After', String(addressWait));
        return showForm(ctx, details, { ...input, error: translatorFor(deps, ctx)('signin:signup.tooManyAddress', { count: Math.ceil(addressWait / 60) }) }, 429);
      }
      await recordFailure([[ipLimit, ip], address]); // every sign-up counts toward both budgets
      const existing = await deps.accounts.findByEmail(email);
      const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
      // Hash in both branches so the two take the same time.
      const passwordHash = await hashPassword(input.password);
      const pending: Pending = {
        email, name: input.name, codeHash: sha256(`${details.uid}:${code}`), attempts: 0,
        ...(existing ? {} : { passwordHash }),
      };
      await store.upsert(details.uid, pending as unknown as Record<string, unknown>, CODE_TTL_SECONDS);
      const mail = existing
        ? { to: existing.email, template: 'signup-existing', lang: existing.locale, data: { issuer: deps.config.issuer } }
        : { to: email, template: 'signup-code', data: { code, name: input.name, minutes: CODE_TTL_SECONDS / 60 } }; // in the page's language
      // after the answer: the two mails must not take different times on the request path
      deps.mailer.later('sign-up mail', () => deps.mailer.send(mail));
      ctx.redirect(`/interaction/${details.uid}/verify`);
      ctx.status = 303;
    },

    async verifyForm(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.login);
      const pending = await store.find(details.uid) as Pending | undefined;
      if (!pending) { ctx.redirect(`/interaction/${details.uid}/signup`); ctx.status = 303; return; }
      showVerify(ctx, details, pending);
    },

    async verify(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.login);
      // the policy may have closed since the code was mailed: no account is made after that
      if (!(await signupOpen(ctx, details))) return;
      const pending = await store.find(details.uid) as Pending | undefined;
      if (!pending) { ctx.redirect(`/interaction/${details.uid}/signup`); ctx.status = 303; return; }
      // a field that cannot hold a code is a wrong code: the same answer, and it counts as a try
      const typed = verifyBody.safeParse(ctx.request.body ?? {});
      const code = typed.success ? typed.data.code.replace(/\s+/g, '') : '';
      const expected = Buffer.from(pending.codeHash);
      const given = Buffer.from(sha256(`${details.uid}:${code}`));
      const right = pending.passwordHash !== undefined && pending.attempts < MAX_CODE_ATTEMPTS && timingSafeEqual(expected, given);
      if (!right) {
        pending.attempts += 1;
        if (pending.attempts >= MAX_CODE_ATTEMPTS) {
          await store.destroy(details.uid);
          return showForm(ctx, details, { name: pending.name, email: pending.email, error: translatorFor(deps, ctx)('signin:signup.tooManyCodes') }, 429);
        }
        await store.upsert(details.uid, pending as unknown as Record<string, unknown>, CODE_TTL_SECONDS);
        return showVerify(ctx, details, pending, translatorFor(deps, ctx)('signin:verify.wrongCode'), 400);
      }
      await store.destroy(details.uid);
      const user = await deps.accounts.createWithHash({ email: pending.email, name: pending.name, passwordHash: pending.passwordHash! },
        (u, trx) => deps.audit.record({ type: 'user.created', actorId: u.id, subjectId: u.id, ...requestOrigin(ctx), data: { source: 'signup' } }, trx));
      if (!user) {
        // the address was registered meanwhile: same answer as a wrong code
        return showVerify(ctx, details, pending, translatorFor(deps, ctx)('signin:verify.wrongCode'), 400);
      }
      deps.log.info({ event: 'signup', sub: user.id }, 'account created');
      await secondFactor.afterPrimary(ctx, details, user, ['pwd']);
    },
  };
}
