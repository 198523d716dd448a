// First run: while no administrator exists, a one-time setup link (printed in the boot log, as
// Keycloak does) leads to a form that creates the first one. The link's token is 32 random bytes;
// only its SHA-256 is stored, in the short-lived store (Redis or the database: any node can redeem
// it), for SETUP_TOKEN_TTL_SECONDS or until an administrator exists, whichever comes first.
import { createHash, randomBytes } from 'node:crypto';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountRepo } from '../accounts/account.repo.ts';
import { checkPasswordPolicy, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_PROBLEM_TEXT } from '../accounts/password.ts';
import { AppError } from '../errors/app-error.ts';
import type { SetupRepo } from './setup.repo.ts';

/** An hour: long enough to read the log and open the link; a restart prints a new one. */
export const SETUP_TOKEN_TTL_SECONDS = 3600;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const NAME_MAX = 100;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A problem with one field of the setup form: a key of the home catalog (home:setup.errors.*). */
export interface FieldProblem { field: 'email' | 'name' | 'password' | 'confirm_password'; key: string; vars?: Record<string, unknown> }

/** The part of the address before the @ that the password contains, else the whole address. */
function containedName(password: string, email: string): string {
  const local = email.split('@')[0]!;
  return local.length >= 4 && password.toLowerCase().includes(local.toLowerCase()) ? local : email;
}

/** Why this password cannot be an administrator's (the normal password policy), as a catalog key. */
export function adminPasswordProblem(password: string, email: string): FieldProblem | undefined {
  const problem = checkPasswordPolicy(password, email);
  switch (problem) {
    case undefined: return undefined;
    case 'too_short': return { field: 'password', key: 'tooShort', vars: { count: PASSWORD_MIN_LENGTH } };
    case 'too_long': return { field: 'password', key: 'tooLong', vars: { count: PASSWORD_MAX_LENGTH } };
    case 'contains_email': return { field: 'password', key: 'containsEmail', vars: { name: containedName(password, email) } };
    case 'common': return { field: 'password', key: 'common' };
  }
}

/** The same rule for GATEHOUSE_ADMIN_PASSWORD at boot, as one plain English sentence (undefined: fine). */
export function envAdminPasswordProblem(email: string, password: string): string | undefined {
  const problem = checkPasswordPolicy(password, email);
  if (!problem) return undefined;
  if (problem === 'contains_email') {
    const name = containedName(password, email);
    return `GATEHOUSE_ADMIN_PASSWORD contains "${name}", the ${name === email ? 'address' : 'name'} in GATEHOUSE_ADMIN_EMAIL (${email}), so it is easy to guess. Choose a password without it.`;
  }
  return `GATEHOUSE_ADMIN_PASSWORD: ${PASSWORD_PROBLEM_TEXT[problem]}`;
}

export interface FirstAdminInput { email: string; name: string; password: string; confirmPassword: string }

export type FirstAdminResult =
  | { ok: true; email: string }
  | { ok: false; reason: 'expired' | 'admin_exists' }
  | { ok: false; reason: 'invalid'; problems: FieldProblem[] };

/** What the boot line says about the administrator. */
export type AdminStatus =
  | { kind: 'exists' | 'created' | 'promoted'; email: string }
  | { kind: 'none'; setupPath: string };

export function createSetup(deps: {
  repo: SetupRepo; accounts: AccountService; accountRepo: Pick<AccountRepo, 'lockEnsureAdmin'>;
  transactions: Transactions; audit: Audit; adapters: AdapterFactory;
}) {
  const { repo, accounts, transactions, audit } = deps;
  const tokens = deps.adapters('SetupToken');
  // an administrator is rarely removed; once seen, the landing page stops asking the database
  let adminSeen = false;

  async function firstAdmin(): Promise<string | undefined> {
    const email = await repo.firstAdminEmail();
    if (email) adminSeen = true;
    return email;
  }
  const adminExists = async (): Promise<boolean> => adminSeen || !!(await firstAdmin());

  async function tokenLive(token: string): Promise<boolean> {
    if (!TOKEN_SHAPE.test(token)) return false;
    return !!(await tokens.find(sha256(token)));
  }

  async function issueToken(): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await tokens.upsert(sha256(token), { purpose: 'first-admin' }, SETUP_TOKEN_TTL_SECONDS);
    return token;
  }

  return {
    firstAdmin,
    adminExists,

    /**
     * At boot: GATEHOUSE_ADMIN_EMAIL/PASSWORD applied (created, promoted or already there), else an
     * existing administrator, else a new setup link. Refuses a password the policy refuses.
     */
    async atBoot(envAdmin: { email: string; password: string } | undefined): Promise<AdminStatus> {
      if (envAdmin) {
        const problem = envAdminPasswordProblem(envAdmin.email, envAdmin.password);
        if (problem) throw new Error(problem);
        const before = await accounts.findByEmail(envAdmin.email);
        const user = await accounts.ensureAdmin(envAdmin.email, envAdmin.password).catch((e: Error) => {
          throw new Error(`GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD: ${e.message}`);
        });
        adminSeen = true;
        return { kind: !before ? 'created' : before.roles.includes('admin') ? 'exists' : 'promoted', email: user.email };
      }
      const email = await firstAdmin();
      if (email) return { kind: 'exists', email };
      return { kind: 'none', setupPath: `/setup/${await issueToken()}` };
    },

    /** A setup link's token still opens the form: live, and no administrator yet. */
    async canSetUp(token: string): Promise<boolean> {
      return (await tokenLive(token)) && !(await adminExists());
    },

    /** Creates the first administrator (verified, role admin) and burns the token. */
    async createFirstAdmin(token: string, input: FirstAdminInput, origin: Pick<AuditEvent, 'ip' | 'userAgent'>): Promise<FirstAdminResult> {
      if (!(await tokenLive(token))) return { ok: false, reason: 'expired' };
      if (await adminExists()) return { ok: false, reason: 'admin_exists' };
      const problems: FieldProblem[] = [];
      let email = input.email.trim();
      if (!email) problems.push({ field: 'email', key: 'emailMissing' });
      else {
        try { email = accounts.parseEmail(email); } catch { problems.push({ field: 'email', key: 'emailInvalid' }); }
      }
      const name = input.name.trim();
      if (!name) problems.push({ field: 'name', key: 'nameMissing' });
      else if ([...name].length > NAME_MAX) problems.push({ field: 'name', key: 'nameTooLong', vars: { count: NAME_MAX } });
      const passwordProblem = adminPasswordProblem(input.password, email);
      if (passwordProblem) problems.push(passwordProblem);
      else if (input.password !== input.confirmPassword) problems.push({ field: 'confirm_password', key: 'mismatch' });
      if (problems.length) return { ok: false, reason: 'invalid', problems };

      try {
        const created = await transactions.run(async (tx) => {
          await deps.accountRepo.lockEnsureAdmin(tx); // the same lock as GATEHOUSE_ADMIN_EMAIL at boot
          if (await repo.firstAdminEmail(tx)) return undefined;
          const user = await accounts.create({ email, name, password: input.password, roles: ['admin'], emailVerified: true }, tx);
          await audit.record({ type: 'user.created', actorId: user.id, subjectId: user.id, ...origin, data: { source: 'setup', admin: true } }, tx);
          return user;
        });
        if (!created) { adminSeen = true; return { ok: false, reason: 'admin_exists' }; }
        adminSeen = true;
        // the admin exists now, so every token is dead anyway (canSetUp checks); a failed delete must
        // not turn a stored admin into a "try again" page
        await tokens.destroy(sha256(token)).catch(() => undefined);
        return { ok: true, email: created.email };
      } catch (e) {
        if (e instanceof AppError && e.code === 'email_taken') return { ok: false, reason: 'invalid', problems: [{ field: 'email', key: 'emailTaken' }] };
        throw e;
      }
    },
  };
}
export type Setup = ReturnType<typeof createSetup>;
