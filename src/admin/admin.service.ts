// What an administrator does to accounts, shared by the admin API and the console: each change
// and its audit event in one transaction; sessions and grants ended where the change demands it.
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AuditFilter, AuditRepo, AuditRow } from '../audit/audit.repo.ts';
import type { AccountRepo, UserRow } from '../accounts/account.repo.ts';
import type { AccountSessionRepo } from '../accounts/account-session.repo.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import type { Mfa } from '../mfa/index.ts';
import { badRequest, conflict, notFound } from '../errors/app-error.ts';
import { endAccountEverywhere } from '../accounts/end-everywhere.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { Lifecycle } from '../accounts/lifecycle.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { hashPassword } from '../accounts/password.ts';
import { liveSessions } from '../accounts/live-sessions.ts';
import type { AccountSessionRow } from '../accounts/account-session.repo.ts';

/** A role is a lower-case word (the admin API's rule). */
export const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const MAX_ROLES = 20;

/** What an admin may change on an account (the admin API's PATCH, and the email). */
export interface UserChanges { name?: string | null; email?: string; email_verified?: boolean; roles?: string[]; mfa_required?: boolean }

export type { AuditFilter };

export type AdminOrigin = Pick<AuditEvent, 'actorId' | 'clientId' | 'ip' | 'userAgent'>;

export interface AdminServiceDeps {
  transactions: Transactions;
  accounts: AccountRepo;
  auditEvents: Pick<AuditRepo, 'search'>;
  sessions: Pick<AccountSessionRepo, 'endAll' | 'end' | 'open'>;
  audit: Audit;
  adapters: AdapterFactory;
  mfa: Mfa;
  /** creation and the password policy, as sign-up and the admin API apply them */
  accountService: Pick<AccountService, 'create' | 'checkPassword' | 'parseEmail'>;
  /** the reset link, as "forgot password" sends it */
  lifecycle: Pick<Lifecycle, 'requestReset'>;
}

export function createAdminService(deps: AdminServiceDeps) {
  const { transactions, accounts, audit, adapters } = deps;

  async function user(id: string, tx?: Queryable): Promise<UserRow> {
    const u = await accounts.findById(id, tx);
    if (!u) throw notFound(`no user ${id}`);
    return u;
  }

  async function change(id: string, type: string, patch: Partial<UserRow>, origin: AdminOrigin, data: Record<string, unknown> = {}): Promise<UserRow> {
    return transactions.run(async (tx) => {
      await user(id, tx);
      const row = await accounts.update(id, patch, tx);
      // deleted by a concurrent request between the look-up and the update
      if (!row) throw notFound(`no user ${id}`);
      await audit.record({ type, subjectId: id, ...origin, data }, tx);
      return row;
    });
  }

  const endEverything = (id: string) => endAccountEverywhere({ adapters, sessions: deps.sessions }, id);

  /** Mails the user a password-reset link (as "forgot password" does; nothing for a disabled account). */
  async function sendResetLink(id: string, origin: AdminOrigin): Promise<UserRow> {
    const u = await user(id);
    if (u.disabled_at) throw conflict('This user is disabled: enable them first, then send the link.', 'user_disabled');
    await audit.record({ type: 'password.reset_link_sent', subjectId: id, ...origin });
    await deps.lifecycle.requestReset(u.email, { ip: origin.ip, userAgent: origin.userAgent });
    return u;
  }

  function checkRoles(roles: string[]): string[] {
    const unique = [...new Set(roles.map((r) => r.trim()).filter(Boolean))];
    const bad = unique.find((r) => !ROLE_PATTERN.test(r));
    if (bad !== undefined) throw badRequest(`"${bad.slice(0, 40)}" is not a role: roles are lower-case words (letters, digits, - and _).`, 'invalid_role');
    if (unique.length > MAX_ROLES) throw badRequest(`At most ${MAX_ROLES} roles.`, 'invalid_role');
    return unique;
  }

  return {
    user,
    change,

    /** Users whose email or name contains `query`, oldest first, a page at a time. */
    searchUsers: (q: { query?: string; limit: number; offset: number }): Promise<{ total: number; users: UserRow[] }> => accounts.search(q),

    /** Audit events, newest first, filtered and a page at a time. */
    auditEvents: (f: AuditFilter & { limit: number; offset: number }): Promise<{ total: number; events: AuditRow[] }> => deps.auditEvents.search(f),

    async disable(id: string, origin: AdminOrigin): Promise<UserRow> {
      if (id === origin.actorId) throw badRequest('You cannot disable yourself.', 'self');
      const row = await change(id, 'user.disabled', { disabled_at: new Date() }, origin);
      await endEverything(row.id);
      return row;
    },
    async enable(id: string, origin: AdminOrigin): Promise<UserRow> {
      // A disable whose revocation failed half-way (Redis unavailable) left the account's grants
      // behind, refused only because the account is disabled: they end first, so that enabling
      // cannot bring them back, and the account stays disabled if they cannot end now.
      if ((await user(id)).disabled_at) await endEverything(id);
      return change(id, 'user.enabled', { disabled_at: null }, origin);
    },
    async remove(id: string, origin: AdminOrigin): Promise<void> {
      if (id === origin.actorId) throw badRequest('You cannot delete yourself.', 'self');
      await transactions.run(async (tx) => {
        const u = await user(id, tx);
        await accounts.delete(id, tx);
        await audit.record({ type: 'user.deleted', subjectId: id, ...origin, data: { email: u.email } }, tx);
      });
      await adapters.revokeAccount(id); // its account_sessions rows went with the user
    },
    /**
     * A new account, under the rules of sign-up and the admin API (email syntax and uniqueness, the
     * password policy). Without a password, `invite` mails a link to set one (the reset link).
     */
    async createUser(input: { email: string; name?: string; password?: string; roles: string[]; emailVerified: boolean; invite: boolean }, origin: AdminOrigin): Promise<UserRow> {
      const roles = checkRoles(input.roles);
      const created = await transactions.run(async (tx) => {
        const u = await deps.accountService.create({ email: input.email, password: input.password, name: input.name, roles, emailVerified: input.emailVerified }, tx);
        await audit.record({ type: 'user.created', subjectId: u.id, ...origin, data: { admin: roles.includes('admin'), roles, source: 'admin' } }, tx);
        return u;
      });
      if (input.invite && input.password === undefined) await sendResetLink(created.id, origin);
      return created;
    },

    /**
     * Name, email, verified flag, roles, MFA required: one audited change. An admin cannot take
     * their own admin role away (the admin API's rule); a new email must be free, and is not
     * verified unless said so.
     */
    async updateUser(id: string, changes: UserChanges, origin: AdminOrigin): Promise<UserRow> {
      const patch: Partial<UserRow> = {};
      const current = await user(id);
      if (changes.name !== undefined && (changes.name?.trim() || null) !== current.name) patch.name = changes.name?.trim() || null;
      if (changes.roles !== undefined) {
        const roles = checkRoles(changes.roles);
        if (id === origin.actorId && !roles.includes('admin')) throw badRequest('You cannot remove your own admin role.', 'self_demotion');
        if (roles.join(' ') !== current.roles.join(' ')) patch.roles = roles;
      }
      if (changes.mfa_required !== undefined && changes.mfa_required !== current.mfa_required) patch.mfa_required = changes.mfa_required;
      if (changes.email !== undefined && changes.email.trim() !== current.email) {
        const email = deps.accountService.parseEmail(changes.email.trim());
        const normalized = normalizeEmail(email);
        const other = await accounts.findByEmail(normalized);
        if (other && other.id !== id) throw conflict('Another account has that email.', 'email_taken');
        patch.email = email;
        patch.email_normalized = normalized;
        if (changes.email_verified === undefined) patch.email_verified = false;
      }
      if (changes.email_verified !== undefined && changes.email_verified !== current.email_verified) patch.email_verified = changes.email_verified;
      if (Object.keys(patch).length === 0) return current;
      try {
        return await change(id, 'user.updated', patch, origin, { fields: Object.keys(patch).filter((f) => f !== 'email_normalized'), source: 'admin' });
      } catch (e) {
        if ((e as { code?: string }).code === '23505') throw conflict('Another account has that email.', 'email_taken');
        throw e;
      }
    },

    /** A password set by an admin, under the password policy; every session and grant ends. */
    async setPassword(id: string, password: string, origin: AdminOrigin): Promise<void> {
      const u = await user(id);
      deps.accountService.checkPassword(password, u.email);
      const hash = await hashPassword(password);
      await transactions.run(async (tx) => {
        if (!await accounts.setPassword(id, hash, tx)) throw notFound(`no user ${id}`);
        await audit.record({ type: 'password.reset', subjectId: id, ...origin, data: { by: 'admin' } }, tx);
      });
      await endEverything(id);
    },

    sendResetLink,

    /** The account's live sessions (device, IP, last seen), most recently seen first. */
    sessionsOf: (id: string): Promise<AccountSessionRow[]> => liveSessions({ sessions: deps.sessions, adapters }, id),

    /** Ends one session of the account (its browser is signed out); false when it is not theirs or gone. */
    async endSession(id: string, uid: string, origin: AdminOrigin): Promise<boolean> {
      await user(id);
      const store = adapters('Session');
      const session = await store.findByUid(uid);
      if (!session || session.accountId !== id) return false;
      await store.destroy(session.jti as string);
      await deps.sessions.end(uid, { userId: id });
      await audit.record({ type: 'session.revoked', subjectId: id, ...origin, data: { session_uid: uid } });
      return true;
    },

    async resetMfa(id: string, origin: AdminOrigin): Promise<void> {
      await transactions.run(async (tx) => {
        await user(id, tx);
        await deps.mfa.reset(id, tx);
        await audit.record({ type: 'mfa.reset', subjectId: id, ...origin }, tx);
      });
    },
    async revokeSessions(id: string, origin: AdminOrigin): Promise<void> {
      await user(id);
      await endEverything(id);
      await audit.record({ type: 'session.revoked_all', subjectId: id, ...origin });
    },
  };
}
export type AdminService = ReturnType<typeof createAdminService>;
