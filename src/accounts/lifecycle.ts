// The account lifecycle: email verification, password reset and change, email change, and ending
// everything an account holds. Each change and its audit event share one transaction; mail goes
// out after the commit.
import type { Logger } from 'pino';
import type { AccountService } from './account.service.ts';
import type { AccountRepo, UserRow } from './account.repo.ts';
import type { AccountSessionRepo } from './account-session.repo.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { MailTokens } from './mail-tokens.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { normalizeEmail } from './email.ts';
import { endAccountEverywhere } from './end-everywhere.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { badRequest, conflict } from '../errors/app-error.ts';
import { RESET_LIMITS } from '../security/rate-limit.ts';

export const VERIFY_EMAIL_TTL = 24 * 3600;
export const RESET_TTL = 30 * 60; // the issue: valid 30 minutes
export const CHANGE_EMAIL_TTL = 60 * 60;

/**
 * Reset links live side by side: asking again (or somebody else asking for the owner's address)
 * must not kill a link already mailed. The cap is as many links as the per-address limit
 * (RESET_LIMITS.email) can let through during one link's lifetime: each limit period (a window
 * or a block, never shorter than the shorter of the two) lets `points` through, and a lifetime of
 * RESET_TTL overlaps at most ceil(RESET_TTL / period) + 1 periods. So no request the limit allows
 * can push out a link before it expires (3 × (2 + 1) = 9 today); the cap only bounds the table.
 * Every link goes to the owner's own inbox, and each is 256 random bits: more live links give a
 * guesser nothing. Verification and email-change codes keep "the newest replaces": only the
 * signed-in owner can ask for them, and the newest must win (a changed mind about the new address).
 */
export const MAX_LIVE_RESET_LINKS = RESET_LIMITS.email.points
  * (Math.ceil(RESET_TTL / Math.min(RESET_LIMITS.email.duration, RESET_LIMITS.email.blockDuration)) + 1);

type Origin = Pick<AuditEvent, 'ip' | 'userAgent'>;

export function createLifecycle(deps: {
  transactions: Transactions; accounts: AccountService; users: AccountRepo; sessions: AccountSessionRepo; tokens: MailTokens;
  mailer: Mailer; audit: Audit; adapters: AdapterFactory; issuer: string; log: Logger;
}) {
  const { transactions, accounts, users, tokens, mailer, audit, issuer } = deps;
  const link = (path: string) => `${issuer}${path}`;

  const endEverything = (userId: string) => endAccountEverywhere(deps, userId);

  return {
    endEverything,

    async sendVerification(user: UserRow): Promise<void> {
      const { token, code } = await tokens.issue(user.id, 'verify_email', VERIFY_EMAIL_TTL);
      await mailer.send({ to: user.email, template: 'verify-email', lang: user.locale,
        data: { code, link: link(`/account/verify-email?token=${token}`), hours: VERIFY_EMAIL_TTL / 3600 } });
    },

    async verifyEmail(input: { token: string } | { userId: string; code: string }, origin: Origin): Promise<UserRow | undefined> {
      const row = 'token' in input ? await tokens.redeemToken(input.token, 'verify_email') : await tokens.redeemCode(input.userId, 'verify_email', input.code);
      if (!row) return undefined;
      return transactions.run(async (trx) => {
        const user = await users.update(row.user_id, { email_verified: true }, trx);
        await audit.record({ type: 'email.verified', actorId: row.user_id, subjectId: row.user_id, ...origin }, trx);
        return user as UserRow;
      });
    },

    /**
     * Same answer, in the same time, whether or not the account exists. The lookup runs on the
     * request path for every address alike, so a store that is down is a 503 there, never a "check
     * your email" for a request that was not taken; the link, its audit event and the mail — the
     * work only an existing account causes — run after the answer (Mailer.later). Disabled accounts
     * get nothing. Earlier links stay valid (MAX_LIVE_RESET_LINKS).
     */
    async requestReset(email: string, origin: Origin): Promise<void> {
      const user = await accounts.findByEmail(email);
      if (!user || user.disabled_at) {
        deps.log.info({ event: 'reset_requested_unknown' }, 'password reset requested for no active account');
        return;
      }
      mailer.later('password reset', async () => {
        const { token } = await tokens.issue(user.id, 'reset_password', RESET_TTL, { keepLive: MAX_LIVE_RESET_LINKS });
        await audit.record({ type: 'password.reset_requested', subjectId: user.id, ...origin });
        await mailer.send({ to: user.email, template: 'reset-password', lang: user.locale,
          data: { link: link(`/account/reset?token=${token}`), minutes: RESET_TTL / 60 } });
      });
    },

    peekReset: (token: string) => tokens.peekToken(token, 'reset_password'),

    async resetPassword(token: string, password: string, origin: Origin): Promise<UserRow | undefined> {
      const peek = await tokens.peekToken(token, 'reset_password');
      if (!peek) return undefined;
      const target = await accounts.findById(peek.user_id);
      if (!target || target.disabled_at) return undefined;
      accounts.checkPassword(password, target.email);
      const hash = await hashPassword(password);
      const user = await transactions.run(async (trx) => {
        const row = await tokens.redeemToken(token, 'reset_password', trx);
        if (!row) return undefined;
        const u = await users.setPassword(row.user_id, hash, trx);
        await audit.record({ type: 'password.reset', actorId: row.user_id, subjectId: row.user_id, ...origin }, trx);
        return u as UserRow;
      });
      if (!user) return undefined;
      await endEverything(user.id);
      await mailer.send({ to: user.email, template: 'password-changed', lang: user.locale, data: { issuer } });
      return user;
    },

    async changePassword(user: UserRow, current: string, next: string, origin: Origin): Promise<void> {
      if (!user.password_hash || !(await verifyPassword(user.password_hash, current))) throw badRequest('Your current password is not right.', 'wrong_password');
      accounts.checkPassword(next, user.email);
      const hash = await hashPassword(next);
      await transactions.run(async (trx) => {
        await users.setPassword(user.id, hash, trx);
        await audit.record({ type: 'password.changed', actorId: user.id, subjectId: user.id, ...origin }, trx);
      });
      await endEverything(user.id);
      await mailer.send({ to: user.email, template: 'password-changed', lang: user.locale, data: { issuer } });
    },

    /**
     * A first password for an account that has none (made by an upstream sign-in): nothing to
     * confirm, so the page asks for a recent sign-in instead. Sessions stay: no credential was
     * replaced. Refused if a password appeared meanwhile (then it is a change, with the current one).
     */
    async setFirstPassword(user: UserRow, next: string, origin: Origin): Promise<void> {
      accounts.checkPassword(next, user.email);
      const hash = await hashPassword(next);
      await transactions.run(async (trx) => {
        if ((await users.findById(user.id, trx))?.password_hash) throw conflict('Your account has a password now. Reload the page to change it.', 'password_exists');
        await users.setPassword(user.id, hash, trx);
        await audit.record({ type: 'password.changed', actorId: user.id, subjectId: user.id, ...origin, data: { first: true } }, trx);
      });
      await mailer.send({ to: user.email, template: 'password-set', lang: user.locale, data: { issuer } });
    },

    async requestEmailChange(user: UserRow, newEmail: string, origin: Origin): Promise<void> {
      const email = accounts.parseEmail(newEmail);
      if (normalizeEmail(email) === user.email_normalized) throw badRequest('That is already your email address.', 'same_email');
      await audit.record({ type: 'email.change_requested', actorId: user.id, subjectId: user.id, ...origin });
      // after the answer, so its time does not tell whether another account has the new address
      mailer.later('email change', async () => {
        const taken = await accounts.findByEmail(email);
        if (!taken) {
          const { token, code } = await tokens.issue(user.id, 'change_email', CHANGE_EMAIL_TTL, { newEmail: email });
          await mailer.send({ to: email, template: 'change-email', lang: user.locale,
            data: { code, link: link(`/account/email/confirm?token=${token}`), minutes: CHANGE_EMAIL_TTL / 60 } });
        }
        // the old address hears of it either way; the new one learns nothing about other accounts
        await mailer.send({ to: user.email, template: 'email-change-requested', lang: user.locale, data: { newEmail: email, issuer } });
      });
    },

    async confirmEmailChange(input: { token: string } | { userId: string; code: string }, origin: Origin): Promise<UserRow | undefined> {
      const row = 'token' in input ? await tokens.redeemToken(input.token, 'change_email') : await tokens.redeemCode(input.userId, 'change_email', input.code);
      if (!row?.new_email) return undefined;
      const before = await accounts.findById(row.user_id);
      if (!before) return undefined;
      let user: UserRow;
      try {
        user = await transactions.run(async (trx) => {
          const u = await users.update(row.user_id, {
            email: row.new_email!, email_normalized: normalizeEmail(row.new_email!), email_verified: true,
          }, trx);
          await audit.record({ type: 'email.changed', actorId: row.user_id, subjectId: row.user_id, ...origin, data: { from: before.email, to: row.new_email } }, trx);
          return u as UserRow;
        });
      } catch (e) {
        if ((e as { code?: string }).code === '23505') throw conflict('That address now belongs to another account.', 'email_taken');
        throw e;
      }
      await mailer.send({ to: before.email, template: 'email-changed', lang: before.locale, data: { newEmail: user.email, issuer } });
      return user;
    },
  };
}
export type Lifecycle = ReturnType<typeof createLifecycle>;
