// What an administrator does to accounts, shared by the admin API and the console: each change
// and its audit event in one transaction; sessions and grants ended where the change demands it.
import type { Knex } from 'knex';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { isUuid } from '../accounts/account.repo.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Mfa } from '../mfa/index.ts';
import { badRequest, notFound } from '../errors/app-error.ts';
import { endAccountEverywhere } from '../accounts/end-everywhere.ts';

export interface AuditFilter { actor?: string; subject?: string; type?: string; since?: Date; until?: Date }

export type AdminOrigin = Pick<AuditEvent, 'actorId' | 'clientId' | 'ip' | 'userAgent'>;

export function createAdminService(deps: { knex: Knex; audit: Audit; adapters: AdapterFactory; mfa: Mfa }) {
  const { knex, audit, adapters } = deps;

  async function user(id: string, trx: Knex = knex): Promise<UserRow> {
    const u = isUuid(id) ? await trx<UserRow>('users').where({ id }).first() : undefined;
    if (!u) throw notFound(`no user ${id}`);
    return u;
  }

  async function change(id: string, type: string, patch: Partial<UserRow>, origin: AdminOrigin, data: Record<string, unknown> = {}): Promise<UserRow> {
    return knex.transaction(async (trx) => {
      await user(id, trx);
      const [row] = await trx('users').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
      // deleted by a concurrent request between the look-up and the update
      if (!row) throw notFound(`no user ${id}`);
      await audit.record({ type, subjectId: id, ...origin, data }, trx);
      return row as UserRow;
    });
  }

  const endEverything = (id: string) => endAccountEverywhere(knex, adapters, id);

  return {
    user,
    change,

    /** Users whose email or name contains `query`, oldest first, a page at a time. */
    async searchUsers(q: { query?: string; limit: number; offset: number }): Promise<{ total: number; users: UserRow[] }> {
      const base = knex<UserRow>('users');
      if (q.query) base.where((w) => w.whereILike('email', `%${q.query}%`).orWhereILike('name', `%${q.query}%`));
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), users: await base.orderBy('created_at').limit(q.limit).offset(q.offset) };
    },

    /** Audit events, newest first, filtered and a page at a time. */
    async auditEvents(f: AuditFilter & { limit: number; offset: number }): Promise<{ total: number; events: Array<Record<string, any>> }> {
      const base = knex('audit_events');
      if (f.actor) base.where('actor_id', f.actor);
      if (f.subject) base.where('subject_id', f.subject);
      if (f.type) base.where('type', f.type);
      if (f.since) base.where('at', '>=', f.since);
      if (f.until) base.where('at', '<', f.until);
      const [{ n }] = await base.clone().count({ n: '*' }) as Array<{ n: string }>;
      return { total: Number(n), events: await base.orderBy('id', 'desc').limit(f.limit).offset(f.offset) };
    },
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
      await knex.transaction(async (trx) => {
        const u = await user(id, trx);
        await trx('users').where({ id }).delete();
        await audit.record({ type: 'user.deleted', subjectId: id, ...origin, data: { email: u.email } }, trx);
      });
      await adapters.revokeAccount(id); // its account_sessions rows went with the user
    },
    async resetMfa(id: string, origin: AdminOrigin): Promise<void> {
      await knex.transaction(async (trx) => {
        await user(id, trx);
        await deps.mfa.reset(id, trx);
        await audit.record({ type: 'mfa.reset', subjectId: id, ...origin }, trx);
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
