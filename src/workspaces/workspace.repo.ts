// Workspaces, memberships and invitations: the only SQL of the domain (the active workspace is a
// column of users, written through accounts/account.repo.ts; membershipsOf reads it beside the
// memberships in one query). Every function takes the transaction to run in; `lock` reads take a row lock (FOR UPDATE) so that rules
// checked on what was read (the last owner, a single-use invitation) still hold at commit.
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';
import type { Role } from './roles.ts';

export interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  created_by: string | null;
  /** the upstream provider whose organisation sync created it (null: made by people) */
  managed_by?: string | null;
  created_at: Date;
  updated_at: Date;
}

/** `managed_by`: the upstream provider whose organisation sync made it; null when made by hand. */
export interface MembershipRow { workspace_id: string; user_id: string; role: Role; created_at: Date; managed_by: string | null }

/** One of a user's memberships as organisation sync reads it: which workspace, what role, made by whom. */
export interface SyncedMembership { workspace_id: string; slug: string; role: Role; managed_by: string | null }

/** A membership as the user sees it: the workspace and their role in it. */
export interface UserMembership { id: string; slug: string; name: string; role: Role; joined_at: Date }

export interface MemberRow { user_id: string; email: string; name: string | null; role: Role; joined_at: Date }

export interface InvitationRow {
  id: string;
  workspace_id: string;
  email: string;
  email_normalized: string;
  role: Role;
  token_hash: string;
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  revoked_at: Date | null;
}

export type WorkspaceRef = { id: string } | { slug: string };

/** The order in which "the user's next workspace" is chosen: oldest membership first, then slug. */
const MEMBERSHIP_ORDER = ['m.created_at', 'w.slug'] as const;

export function createWorkspaceRepo(knex: Knex) {
  return {
    async insertWorkspace(row: Pick<WorkspaceRow, 'id' | 'slug' | 'name' | 'created_by'>, trx: Queryable = knex): Promise<WorkspaceRow> {
      const [created] = await trx<WorkspaceRow>('workspaces').insert(row).returning('*');
      return created as WorkspaceRow;
    },

    /** `lock`: FOR UPDATE (membership changes); `share`: FOR SHARE (pointing a user at it). */
    async findWorkspace(ref: WorkspaceRef, trx: Queryable = knex, opts: { lock?: boolean | 'share' } = {}): Promise<WorkspaceRow | undefined> {
      const q = trx<WorkspaceRow>('workspaces').where(ref).first();
      if (opts.lock === 'share') return q.forShare();
      return opts.lock ? q.forUpdate() : q;
    },

    async renameWorkspace(id: string, name: string, trx: Queryable = knex): Promise<WorkspaceRow> {
      const [row] = await trx<WorkspaceRow>('workspaces').where({ id }).update({ name, updated_at: trx.fn.now() as unknown as Date }).returning('*');
      return row as WorkspaceRow;
    },

    deleteWorkspace: (id: string, trx: Queryable = knex) => trx('workspaces').where({ id }).del(),

    async listWorkspaces(trx: Queryable = knex): Promise<Array<WorkspaceRow & { members: number; owners: string[] }>> {
      const rows = await trx('workspaces as w')
        .leftJoin('memberships as m', 'm.workspace_id', 'w.id')
        .leftJoin('users as u', 'u.id', 'm.user_id')
        .groupBy('w.id')
        .orderBy('w.created_at')
        .select('w.*', trx.raw('count(m.user_id)::int as members'),
          trx.raw(`coalesce(array_agg(u.email order by u.email) filter (where m.role = 'owner'), '{}') as owners`));
      return rows;
    },

    findMembership: (workspaceId: string, userId: string, trx: Queryable = knex): Promise<MembershipRow | undefined> =>
      trx<MembershipRow>('memberships').where({ workspace_id: workspaceId, user_id: userId }).first(),

    async insertMembership(row: Pick<MembershipRow, 'workspace_id' | 'user_id' | 'role'> & { managed_by?: string | null }, trx: Queryable = knex): Promise<MembershipRow> {
      const [created] = await trx<MembershipRow>('memberships').insert(row).returning('*');
      return created as MembershipRow;
    },

    async setRole(workspaceId: string, userId: string, role: Role, trx: Queryable = knex): Promise<void> {
      await trx('memberships').where({ workspace_id: workspaceId, user_id: userId }).update({ role });
    },

    deleteMembership: (workspaceId: string, userId: string, trx: Queryable = knex) =>
      trx('memberships').where({ workspace_id: workspaceId, user_id: userId }).del(),

    /** Organisation sync: every membership of the user, with its workspace's slug and who manages it. */
    membershipsForSync: (userId: string, trx: Queryable = knex): Promise<SyncedMembership[]> =>
      trx('memberships as m').join('workspaces as w', 'w.id', 'm.workspace_id').where('m.user_id', userId)
        .orderBy('w.slug').select('m.workspace_id', 'w.slug', 'm.role', 'm.managed_by'),

    /** Organisation sync: the workspaces of these slugs, locked FOR UPDATE in slug order (one order
     * for every sync, so two syncs touching the same workspaces never deadlock each other). */
    lockWorkspacesBySlug: (slugs: readonly string[], trx: Queryable = knex): Promise<WorkspaceRow[]> =>
      slugs.length === 0 ? Promise.resolve([])
        : trx<WorkspaceRow>('workspaces').whereIn('slug', [...slugs]).orderBy('slug').forUpdate(),

    /** Organisation sync: creates the workspace unless its slug exists (a concurrent sign-in may
     * have just made it); either way the caller then locks it by slug. */
    async insertWorkspaceIfAbsent(row: Pick<WorkspaceRow, 'id' | 'slug' | 'name' | 'created_by' | 'managed_by'>, trx: Queryable = knex): Promise<WorkspaceRow | undefined> {
      const [created] = await trx<WorkspaceRow>('workspaces').insert(row).onConflict('slug').ignore().returning('*');
      return created as WorkspaceRow | undefined;
    },

    async countOwners(workspaceId: string, trx: Queryable = knex): Promise<number> {
      const [row] = await trx('memberships').where({ workspace_id: workspaceId, role: 'owner' }).count<{ count: string }[]>('* as count');
      return Number(row?.count ?? 0);
    },

    listMembers: (workspaceId: string, trx: Queryable = knex): Promise<MemberRow[]> =>
      trx('memberships as m').join('users as u', 'u.id', 'm.user_id').where('m.workspace_id', workspaceId)
        .orderBy([{ column: 'm.created_at' }, { column: 'u.email_normalized' }])
        .select('m.user_id', 'u.email', 'u.name', 'm.role', 'm.created_at as joined_at'),

    /** The user's memberships in the deterministic order, and the stored active workspace id. */
    async membershipsOf(userId: string, trx: Queryable = knex): Promise<{ activeId: string | null; memberships: UserMembership[] }> {
      const rows = await trx('users as u')
        .leftJoin('memberships as m', 'm.user_id', 'u.id')
        .leftJoin('workspaces as w', 'w.id', 'm.workspace_id')
        .where('u.id', userId)
        .orderBy(MEMBERSHIP_ORDER.map((column) => ({ column, nulls: 'last' as const })))
        .select('u.active_workspace_id', 'w.id', 'w.slug', 'w.name', 'm.role', 'm.created_at as joined_at');
      return {
        activeId: rows[0]?.active_workspace_id ?? null,
        memberships: rows.filter((r) => r.id).map(({ id, slug, name, role, joined_at }) => ({ id, slug, name, role, joined_at })),
      };
    },

    async insertInvitation(row: Omit<InvitationRow, 'created_at' | 'accepted_at' | 'accepted_by' | 'revoked_at'>, trx: Queryable = knex): Promise<InvitationRow> {
      const [created] = await trx<InvitationRow>('invitations').insert(row).returning('*');
      return created as InvitationRow;
    },

    async findInvitationByHash(tokenHash: string, trx: Queryable = knex, opts: { lock?: boolean } = {}): Promise<InvitationRow | undefined> {
      const q = trx<InvitationRow>('invitations').where({ token_hash: tokenHash }).first();
      return opts.lock ? q.forUpdate() : q;
    },

    findInvitation: (workspaceId: string, id: string, trx: Queryable = knex): Promise<InvitationRow | undefined> =>
      trx<InvitationRow>('invitations').where({ workspace_id: workspaceId, id }).first(),

    /** Not yet accepted or revoked (expired ones included: the list says so). */
    listOpenInvitations: (workspaceId: string, trx: Queryable = knex): Promise<InvitationRow[]> =>
      trx<InvitationRow>('invitations').where({ workspace_id: workspaceId }).whereNull('accepted_at').whereNull('revoked_at').orderBy('created_at'),

    async countPendingInvitations(workspaceId: string, trx: Queryable = knex): Promise<number> {
      const [row] = await trx('invitations').where({ workspace_id: workspaceId }).whereNull('accepted_at').whereNull('revoked_at')
        .where('expires_at', '>', trx.fn.now()).count<{ count: string }[]>('* as count');
      return Number(row?.count ?? 0);
    },

    /** Revokes the open invitations of one address (a new invitation supersedes them). */
    revokeOpenInvitationsFor: (workspaceId: string, emailNormalized: string, trx: Queryable = knex) =>
      trx('invitations').where({ workspace_id: workspaceId, email_normalized: emailNormalized }).whereNull('accepted_at').whereNull('revoked_at')
        .update({ revoked_at: trx.fn.now() }),

    /** Marks an open invitation accepted; 0 if it was accepted, revoked or expired meanwhile. */
    markAccepted: (id: string, userId: string, trx: Queryable = knex): Promise<number> =>
      trx('invitations').where({ id }).whereNull('accepted_at').whereNull('revoked_at').where('expires_at', '>', trx.fn.now())
        .update({ accepted_at: trx.fn.now(), accepted_by: userId }),

    revokeInvitation: (id: string, trx: Queryable = knex): Promise<number> =>
      trx('invitations').where({ id }).whereNull('accepted_at').whereNull('revoked_at').update({ revoked_at: trx.fn.now() }),
  };
}
export type WorkspaceRepo = ReturnType<typeof createWorkspaceRepo>;
