// Accounts: creation, password sign-in and the claims released to relying parties.
import { randomUUID } from 'node:crypto';
import type { Queryable, Transactions, Tx } from '../storage/transactions.ts';
import type { AccountRepo, UserRow } from './account.repo.ts';
import { normalizeEmail, emailSchema } from './email.ts';
import {
  burnVerifyTime, checkPasswordPolicy, hashPassword, needsRehash, verifyPassword, PASSWORD_PROBLEM_TEXT,
} from './password.ts';
import { badRequest, conflict } from '../errors/app-error.ts';

export interface NewAccount {
  email: string;
  password?: string;
  name?: string;
  roles?: string[];
  emailVerified?: boolean;
}

/** Claims by name, for the scopes in src/oidc/claims.ts. */
export function accountClaims(user: UserRow): Record<string, unknown> {
  return {
    sub: user.id,
    email: user.email,
    email_verified: user.email_verified,
    name: user.name ?? undefined,
    given_name: user.given_name ?? undefined,
    family_name: user.family_name ?? undefined,
    picture: user.picture ?? undefined,
    locale: user.locale ?? undefined,
    updated_at: Math.floor(new Date(user.updated_at).getTime() / 1000),
    roles: user.roles,
  };
}

/** An account as operators see it (CLI, admin API, console): no secrets. */
export interface UserView {
  id: string; email: string; email_verified: boolean; name: string | null; roles: string[];
  disabled: boolean; created_at: string;
}

export const userView = (u: UserRow): UserView => ({
  id: u.id, email: u.email, email_verified: u.email_verified, name: u.name, roles: u.roles,
  disabled: !!u.disabled_at, created_at: new Date(u.created_at).toISOString(),
});

export function createAccountService(deps: { repo: AccountRepo; transactions: Transactions }) {
  const { repo, transactions } = deps;
  // make the dummy hash now: the first unknown address must not be told apart by paying for it
  void burnVerifyTime('');

  function parseEmail(email: string): string {
    const parsed = emailSchema.safeParse(email);
    if (!parsed.success) throw badRequest(parsed.error.issues[0]!.message, 'invalid_email');
    return parsed.data;
  }

  function checkPassword(password: string, email: string): void {
    const problem = checkPasswordPolicy(password, email);
    if (problem) throw badRequest(PASSWORD_PROBLEM_TEXT[problem], 'weak_password');
  }

  async function create(input: NewAccount, trx?: Queryable): Promise<UserRow> {
    const email = parseEmail(input.email);
    if (input.password !== undefined) checkPassword(input.password, email);
    const emailNormalized = normalizeEmail(email);
    if (await repo.findByEmail(emailNormalized, trx)) throw conflict('An account with that email already exists.', 'email_taken');
    try {
      return await repo.insert({
        id: randomUUID(),
        email,
        email_normalized: emailNormalized,
        email_verified: input.emailVerified ?? false,
        password_hash: input.password === undefined ? null : await hashPassword(input.password),
        name: input.name?.trim() || null,
        roles: input.roles ?? [],
      }, trx);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw conflict('An account with that email already exists.', 'email_taken');
      throw e;
    }
  }

  return {
    parseEmail,
    checkPassword,
    create,

    /** Sign-up after the emailed code: the email was verified by the code. Undefined if taken meanwhile. */
    /** `recorded`: the audit event of the creation, in its transaction (webhooks hear of it only if it commits). */
    async createWithHash(input: { email: string; name: string; passwordHash: string }, recorded?: (user: UserRow, trx: Queryable) => Promise<void>): Promise<UserRow | undefined> {
      try {
        return await transactions.run(async (trx) => {
          const user = await repo.insert({
            id: randomUUID(), email: input.email, email_normalized: normalizeEmail(input.email), email_verified: true,
            password_hash: input.passwordHash, name: input.name.trim() || null, roles: [],
          }, trx);
          await recorded?.(user, trx);
          return user;
        });
      } catch (e) {
        if ((e as { code?: string }).code === '23505') return undefined;
        throw e;
      }
    },

    /**
     * The account if the password is right and the account is enabled; the same time either way:
     * an unknown address (or one without a password) still pays one argon2 verification, against
     * a dummy hash made with the same parameters.
     */
    async authenticate(email: string, password: string): Promise<UserRow | undefined> {
      const user = await repo.findByEmail(normalizeEmail(email));
      if (!user?.password_hash) {
        await burnVerifyTime(password);
        return undefined;
      }
      // An imported hash may cost far less (or more) than ours: a known account on one also spends
      // our own verification, so it never answers faster than an unknown address (no enumeration by
      // timing). Slower legacy formats stay slower until their users have signed in once.
      const legacy = needsRehash(user.password_hash);
      const [ok] = await Promise.all([verifyPassword(user.password_hash, password), legacy ? burnVerifyTime(password) : undefined]);
      if (!ok) return undefined;
      if (user.disabled_at) return undefined;
      if (legacy) {
        await repo.update(user.id, { password_hash: await hashPassword(password) });
      }
      return user;
    },

    /**
     * The new password due after a sign-in with an imported unsalted hash (src/interactions/new-password.ts):
     * never the old one, which was stored so weakly it must count as known. `record` audits in the same transaction.
     */
    async replaceRequiredPassword(user: UserRow, password: string, record: (trx: Tx) => Promise<void>): Promise<void> {
      checkPassword(password, user.email);
      const current = await repo.findById(user.id);
      if (current?.password_hash && await verifyPassword(current.password_hash, password)) {
        throw badRequest('Choose a password different from your old one: the old one was not stored safely.', 'same_password');
      }
      const hash = await hashPassword(password);
      await transactions.run(async (trx) => {
        await repo.setPassword(user.id, hash, trx);
        await record(trx);
      });
    },

    /** GATEHOUSE_ADMIN_EMAIL at boot: created with the admin role, or promoted; never duplicated. */
    async ensureAdmin(email: string, password: string): Promise<UserRow> {
      return transactions.run(async (trx) => {
        await repo.lockEnsureAdmin(trx);
        const existing = await repo.findByEmail(normalizeEmail(email), trx);
        if (!existing) return create({ email, password, roles: ['admin'], emailVerified: true }, trx);
        if (existing.roles.includes('admin')) return existing;
        return (await repo.update(existing.id, { roles: [...existing.roles, 'admin'] }, trx))!;
      });
    },

    async findActive(id: string): Promise<UserRow | undefined> {
      const user = await repo.findById(id);
      return user && !user.disabled_at ? user : undefined;
    },

    findByEmail: (email: string) => repo.findByEmail(normalizeEmail(email)),
    findById: (id: string) => repo.findById(id),
    list: (opts: { limit: number; offset: number }) => repo.list(opts),
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
