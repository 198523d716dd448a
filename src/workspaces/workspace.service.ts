// Workspaces and memberships: the rules, no HTTP. Every change runs in one transaction that first
// locks the workspace row, so membership changes in one workspace are serialised: the last-owner
// rule is checked on what is committed, and two owners stepping down at once leave one.
// Each change writes its audit event in the same transaction.
// Workspace claims are read through the membership cache; after each committed change the service
// drops the entries it touched, so this node reads its own change at once (the triggers'
// notification tells every node, this one included, a moment later).
import { randomUUID } from 'node:crypto';
import type { Queryable, Transactions, Tx } from '../storage/transactions.ts';
import type { Audit } from '../audit/audit.ts';
import { isUuid, type AccountRepo, type UserRow } from '../accounts/account.repo.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { badRequest, conflict, forbidden, notFound } from '../errors/app-error.ts';
import type { UserMembership, WorkspaceRef, WorkspaceRepo, WorkspaceRow, MemberRow } from './workspace.repo.ts';
import {
  checkCanChangeRole, checkCanDelete, checkCanRemove, checkCanRename, checkCanViewMembers, type Role,
} from './roles.ts';
import { createWorkspaceInput, firstIssue, nameSchema, parseWorkspaceRef, roleSchema } from './workspace.schema.ts';
import type { WorkspaceClaimsSource } from './workspace.claims.ts';
import type { MembershipCache } from './membership-cache.ts';

/** Who acts, for the audit trail: a user (through a client), or an operator (actorId null). */
export interface Origin { actorId: string | null; clientId?: string | null; ip?: string | null; userAgent?: string | null }
/** A signed-in user acting on workspaces. `actorId` differs from `userId` only under impersonation. */
export interface Caller extends Origin { userId: string }

export const OPERATOR: Origin = { actorId: null, clientId: null };

export interface WorkspaceView { id: string; slug: string; name: string; role?: Role; active?: boolean; created_at: string }
export interface MyWorkspaceView { id: string; slug: string; name: string; role: Role; active: boolean; joined_at: string }
export interface MemberView { user_id: string; email: string; name: string | null; role: Role; joined_at: string }

export const workspaceView = (w: Pick<WorkspaceRow, 'id' | 'slug' | 'name'> & { created_at?: Date }, extra: { role?: Role; active?: boolean } = {}): WorkspaceView => ({
  id: w.id, slug: w.slug, name: w.name, ...extra, created_at: new Date(w.created_at ?? Date.now()).toISOString(),
});
export const memberView = (m: MemberRow): MemberView => ({
  user_id: m.user_id, email: m.email, name: m.name, role: m.role, joined_at: new Date(m.joined_at).toISOString(),
});

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

function allow(problem: string | undefined): void {
  if (problem) throw forbidden(problem, 'insufficient_role');
}

export function parseRef(ref: unknown): WorkspaceRef {
  const parsed = parseWorkspaceRef(ref);
  if (!parsed) throw badRequest(`"${String(ref).slice(0, 100)}" is not a workspace id or slug.`, 'invalid_workspace');
  return parsed;
}

export function createWorkspaceService(deps: { transactions: Transactions; repo: WorkspaceRepo; accounts: AccountRepo; audit: Audit; cache: MembershipCache }) {
  const { transactions, repo, audit, cache } = deps;

  async function load(ref: unknown, trx?: Queryable, lock: boolean | 'share' = false): Promise<WorkspaceRow> {
    const parsed = parseRef(ref);
    const ws = await repo.findWorkspace(parsed, trx, { lock });
    if (!ws) throw notFound(`No workspace "${'id' in parsed ? parsed.id : parsed.slug}".`, 'workspace_not_found');
    return ws;
  }

  /** The caller's role in the workspace; anyone else is refused (403) before anything is read or changed. */
  async function roleIn(ws: WorkspaceRow, userId: string, trx?: Queryable): Promise<Role> {
    const m = await repo.findMembership(ws.id, userId, trx);
    if (!m) throw forbidden(`You are not a member of workspace "${ws.slug}".`, 'not_a_member');
    return m.role;
  }

  async function targetOf(ws: WorkspaceRow, userId: unknown, trx: Tx) {
    if (typeof userId !== 'string' || !isUuid(userId)) throw badRequest('The member is named by their user id (a UUID).', 'invalid_member');
    const m = await repo.findMembership(ws.id, userId, trx);
    if (!m) throw notFound(`That user is not a member of workspace "${ws.slug}".`, 'member_not_found');
    return m;
  }

  async function refuseLastOwner(ws: WorkspaceRow, targetRole: Role, trx: Tx, what: string): Promise<void> {
    if (targetRole !== 'owner') return;
    if ((await repo.countOwners(ws.id, trx)) <= 1) {
      throw conflict(`The last owner of "${ws.slug}" cannot ${what}. Make someone else an owner first.`, 'last_owner');
    }
  }

  const event = (type: string, origin: Origin, subjectId: string | null, data: Record<string, unknown>) => ({
    type, actorId: origin.actorId, subjectId, clientId: origin.clientId ?? null, ip: origin.ip ?? null, userAgent: origin.userAgent ?? null, data,
  });

  /** Organisation sync's mark on a change: the provider in the audit data and, since the upstream
   * decides who is in (a removed member must lose access), no last-owner refusal: a workspace whose
   * last owner loses the owner role upstream is flagged `left_without_owner` for an operator. */
  async function managedData(ws: WorkspaceRow, from: Role, managedBy: string | undefined, trx: Tx): Promise<Record<string, unknown>> {
    if (!managedBy) return {};
    const orphaned = from === 'owner' && (await repo.countOwners(ws.id, trx)) === 0;
    return { managed_by: managedBy, ...(orphaned ? { left_without_owner: true } : {}) };
  }

  /** Changes a role under the workspace lock (rules already checked). */
  async function applyRole(ws: WorkspaceRow, userId: string, from: Role, to: Role, origin: Origin, trx: Tx, managedBy?: string) {
    if (from === to) return;
    if (to !== 'owner' && !managedBy) await refuseLastOwner(ws, from, trx, 'be demoted');
    await repo.setRole(ws.id, userId, to, trx);
    await audit.record(event('workspace.member_role_changed', origin, userId, { workspace_id: ws.id, from, to, ...await managedData(ws, from, managedBy, trx) }), trx);
  }

  /** Removes a membership under the workspace lock; the user's active workspace is cleared if it was this one. */
  async function applyRemoval(ws: WorkspaceRow, userId: string, role: Role, origin: Origin, trx: Tx, managedBy?: string) {
    if (!managedBy) await refuseLastOwner(ws, role, trx, 'leave or be removed');
    await repo.deleteMembership(ws.id, userId, trx);
    await deps.accounts.replaceActiveWorkspace(userId, ws.id, null, trx); // the next token names the user's next workspace
    await audit.record(event('workspace.member_removed', origin, userId, { workspace_id: ws.id, role, ...await managedData(ws, role, managedBy, trx) }), trx);
  }

  async function create(input: { slug: unknown; name: unknown }, ownerId: string, origin: Origin): Promise<WorkspaceView> {
    const parsed = createWorkspaceInput.safeParse({ slug: input.slug, name: input.name });
    if (!parsed.success) throw badRequest(firstIssue(parsed.error), 'invalid_workspace');
    const { slug, name } = parsed.data;
    try {
      const view = await transactions.run(async (trx) => {
        const ws = await repo.insertWorkspace({ id: randomUUID(), slug, name, created_by: ownerId }, trx);
        await repo.insertMembership({ workspace_id: ws.id, user_id: ownerId, role: 'owner' }, trx);
        await audit.record(event('workspace.created', origin, ownerId, { workspace_id: ws.id, slug }), trx);
        return workspaceView(ws, { role: 'owner' });
      });
      cache.invalidate(ownerId);
      return view;
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`The slug "${slug}" is taken. Choose another.`, 'slug_taken');
      throw e;
    }
  }

  /** The memberships and the active workspace; with `settle`, a stale or missing active workspace is
   * replaced by the user's next one (oldest membership first) and stored, as tokens are minted. */
  async function claimsSource(userId: string, opts: { settle: boolean }): Promise<WorkspaceClaimsSource & { storedActiveId: string | null }> {
    const { activeId, memberships } = await cache.membershipsOf(userId);
    let active = memberships.find((m) => m.id === activeId);
    if (!active && opts.settle) {
      active = memberships[0];
      if ((active?.id ?? null) !== activeId) {
        await deps.accounts.replaceActiveWorkspace(userId, activeId, active?.id ?? null);
        cache.invalidate(userId); // read back next time: a concurrent switch may have won
      }
    }
    return { active, memberships, storedActiveId: activeId };
  }

  return {
    create,
    claimsSource,

    /** Whether the sign-in should ask which workspace to work in: several, and none active. */
    async needsChoice(userId: string): Promise<UserMembership[] | undefined> {
      const { active, memberships } = await claimsSource(userId, { settle: false });
      return !active && memberships.length >= 2 ? memberships : undefined;
    },

    async listMine(userId: string): Promise<MyWorkspaceView[]> {
      const { activeId, memberships } = await repo.membershipsOf(userId);
      return memberships.map((m) => ({
        id: m.id, slug: m.slug, name: m.name, role: m.role, active: m.id === activeId, joined_at: new Date(m.joined_at).toISOString(),
      }));
    },

    async get(ref: unknown, caller: Caller): Promise<WorkspaceView> {
      const ws = await load(ref);
      return workspaceView(ws, { role: await roleIn(ws, caller.userId) });
    },

    async rename(ref: unknown, name: unknown, caller: Caller): Promise<WorkspaceView> {
      const parsed = nameSchema.safeParse(name);
      if (!parsed.success) throw badRequest(firstIssue(parsed.error), 'invalid_workspace');
      const view = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const role = await roleIn(ws, caller.userId, trx);
        allow(checkCanRename(role));
        const renamed = await repo.renameWorkspace(ws.id, parsed.data, trx);
        await audit.record(event('workspace.renamed', caller, caller.userId, { workspace_id: ws.id, from: ws.name, to: parsed.data }), trx);
        return workspaceView(renamed, { role });
      });
      cache.invalidate(); // every member's claims name it; a rare change, not worth a query for the members
      return view;
    },

    async remove(ref: unknown, caller: Caller): Promise<{ deleted: string }> {
      const deleted = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        allow(checkCanDelete(await roleIn(ws, caller.userId, trx)));
        await repo.deleteWorkspace(ws.id, trx); // memberships and invitations cascade; active workspaces are cleared
        await audit.record(event('workspace.deleted', caller, caller.userId, { workspace_id: ws.id, slug: ws.slug }), trx);
        return { deleted: ws.id };
      });
      cache.invalidate(); // as for a rename: every member
      return deleted;
    },

    async members(ref: unknown, caller: Caller): Promise<MemberView[]> {
      const ws = await load(ref);
      allow(checkCanViewMembers(await roleIn(ws, caller.userId)));
      return (await repo.listMembers(ws.id)).map(memberView);
    },

    async changeRole(ref: unknown, userId: unknown, role: unknown, caller: Caller): Promise<MemberView> {
      const to = roleSchema.safeParse(role);
      if (!to.success) throw badRequest(firstIssue(to.error), 'invalid_role');
      const member = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const actor = await roleIn(ws, caller.userId, trx);
        const target = await targetOf(ws, userId, trx);
        allow(checkCanChangeRole(actor, target.role, to.data, target.user_id === caller.userId));
        await applyRole(ws, target.user_id, target.role, to.data, caller, trx);
        return memberView((await repo.listMembers(ws.id, trx)).find((m) => m.user_id === target.user_id)!);
      });
      cache.invalidate(member.user_id);
      return member;
    },

    async removeMember(ref: unknown, userId: unknown, caller: Caller): Promise<{ removed: string }> {
      const removed = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const actor = await roleIn(ws, caller.userId, trx);
        const target = await targetOf(ws, userId, trx);
        allow(checkCanRemove(actor, target.role, target.user_id === caller.userId));
        await applyRemoval(ws, target.user_id, target.role, caller, trx);
        return { removed: target.user_id };
      });
      cache.invalidate(removed.removed);
      return removed;
    },

    /** The `workspace` authorization parameter: one of the user's workspaces becomes active (one
     * query when it already is, as on every silent renewal); anything else is refused (403). */
    async chooseActive(userId: string, ref: unknown, origin: Origin): Promise<UserMembership> {
      const parsed = parseRef(ref);
      const { activeId, memberships } = await repo.membershipsOf(userId);
      const chosen = memberships.find((m) => ('id' in parsed ? m.id === parsed.id : m.slug === parsed.slug));
      if (!chosen) throw forbidden(`You are not a member of workspace "${String(ref)}".`, 'not_a_member');
      if (chosen.id !== activeId) {
        await transactions.run(async (trx) => {
          // the workspace first (as a deletion locks it), then the user: the two never deadlock
          if (!(await repo.findWorkspace({ id: chosen.id }, trx, { lock: 'share' }))) throw forbidden(`You are not a member of workspace "${String(ref)}".`, 'not_a_member');
          await deps.accounts.setActiveWorkspace(userId, chosen.id, trx);
          await audit.record(event('workspace.switched', origin, userId, { workspace_id: chosen.id, via: 'authorization' }), trx);
        });
        cache.invalidate(userId);
      }
      return chosen;
    },

    /** The stored active workspace; a non-member (or unknown workspace) changes nothing. */
    async setActive(userId: string, ref: unknown, origin: Origin): Promise<WorkspaceView> {
      const view = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, 'share'); // locked before the user's row, as a deletion does
        const role = await roleIn(ws, userId, trx);
        await deps.accounts.setActiveWorkspace(userId, ws.id, trx);
        await audit.record(event('workspace.switched', origin, userId, { workspace_id: ws.id }), trx);
        return workspaceView(ws, { role, active: true });
      });
      cache.invalidate(userId);
      return view;
    },

    // Operator operations (the CLI): no caller role, the same invariants.

    async operatorCreate(input: { slug: unknown; name: unknown; owner: string }): Promise<WorkspaceView> {
      const owner = await findUser(deps.accounts, input.owner);
      return create({ slug: input.slug, name: input.name }, owner.id, OPERATOR);
    },

    async operatorList(): Promise<Array<WorkspaceView & { members: number; owners: string[] }>> {
      return (await repo.listWorkspaces()).map((w) => ({ ...workspaceView(w), members: w.members, owners: w.owners }));
    },

    /** Adds the user with the role, or changes their role if they are already a member. */
    async operatorAddMember(ref: unknown, email: string, role: unknown, origin: Origin = OPERATOR): Promise<MemberView> {
      const to = roleSchema.safeParse(role ?? 'member');
      if (!to.success) throw badRequest(firstIssue(to.error), 'invalid_role');
      const user = await findUser(deps.accounts, email);
      const member = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const existing = await repo.findMembership(ws.id, user.id, trx);
        if (existing) await applyRole(ws, user.id, existing.role, to.data, origin, trx);
        else {
          await repo.insertMembership({ workspace_id: ws.id, user_id: user.id, role: to.data }, trx);
          await audit.record(event('workspace.member_added', origin, user.id, { workspace_id: ws.id, role: to.data }), trx);
        }
        return memberView((await repo.listMembers(ws.id, trx)).find((m) => m.user_id === user.id)!);
      });
      cache.invalidate(user.id);
      return member;
    },

    async operatorRemoveMember(ref: unknown, email: string, origin: Origin = OPERATOR): Promise<{ removed: string; workspace: string }> {
      const user = await findUser(deps.accounts, email);
      const removed = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const m = await repo.findMembership(ws.id, user.id, trx);
        if (!m) throw notFound(`${user.email} is not a member of workspace "${ws.slug}".`, 'member_not_found');
        await applyRemoval(ws, user.id, m.role, origin, trx);
        return { removed: user.id, workspace: ws.id };
      });
      cache.invalidate(user.id);
      return removed;
    },

    // The admin console's (src/admin/workspaces.console.ts): the operator's powers, the admin as actor.
    async operatorShow(ref: unknown): Promise<WorkspaceView & { members: MemberView[] }> {
      const ws = await load(ref);
      return { ...workspaceView(ws), members: (await repo.listMembers(ws.id)).map(memberView) };
    },
    async operatorRename(ref: unknown, name: unknown, origin: Origin): Promise<WorkspaceView> {
      const parsed = nameSchema.safeParse(name);
      if (!parsed.success) throw badRequest(firstIssue(parsed.error), 'invalid_workspace');
      const view = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const renamed = await repo.renameWorkspace(ws.id, parsed.data, trx);
        await audit.record(event('workspace.renamed', origin, null, { workspace_id: ws.id, from: ws.name, to: parsed.data }), trx);
        return workspaceView(renamed);
      });
      cache.invalidate();
      return view;
    },
    async operatorDelete(ref: unknown, origin: Origin): Promise<{ deleted: string }> {
      const deleted = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        await repo.deleteWorkspace(ws.id, trx);
        await audit.record(event('workspace.deleted', origin, null, { workspace_id: ws.id, slug: ws.slug }), trx);
        return { deleted: ws.id };
      });
      cache.invalidate();
      return deleted;
    },
    /** A member's new role (the last owner stays an owner). */
    async operatorChangeRole(ref: unknown, userId: unknown, role: unknown, origin: Origin): Promise<MemberView> {
      const to = roleSchema.safeParse(role);
      if (!to.success) throw badRequest(firstIssue(to.error), 'invalid_role');
      const member = await transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const target = await targetOf(ws, userId, trx);
        await applyRole(ws, target.user_id, target.role, to.data, origin, trx);
        return memberView((await repo.listMembers(ws.id, trx)).find((m) => m.user_id === target.user_id)!);
      });
      cache.invalidate(member.user_id);
      return member;
    },

    // Organisation sync (federation/org-sync.ts), inside the caller's sign-in transaction: only
    // memberships whose managed_by is the provider. The caller locks the workspaces first
    // (repo.lockWorkspacesBySlug) and drops the user's cache entry after the commit.
    managed: {
      /** A workspace a rule asked for: no creator (the upstream made it), audited as the operator's. */
      async createWorkspace(slug: string, name: string, provider: string, trx: Tx): Promise<WorkspaceRow> {
        const ws = await repo.insertWorkspaceIfAbsent({ id: randomUUID(), slug, name, created_by: null, managed_by: provider }, trx);
        if (ws) await audit.record(event('workspace.created', OPERATOR, null, { workspace_id: ws.id, slug, managed_by: provider }), trx);
        const [locked] = await repo.lockWorkspacesBySlug([slug], trx);
        return locked!;
      },
      async add(ws: WorkspaceRow, userId: string, role: Role, provider: string, trx: Tx): Promise<void> {
        await repo.insertMembership({ workspace_id: ws.id, user_id: userId, role, managed_by: provider }, trx);
        await audit.record(event('workspace.member_added', OPERATOR, userId, { workspace_id: ws.id, role, managed_by: provider }), trx);
      },
      changeRole: (ws: WorkspaceRow, userId: string, from: Role, to: Role, provider: string, trx: Tx) =>
        applyRole(ws, userId, from, to, OPERATOR, trx, provider),
      remove: (ws: WorkspaceRow, userId: string, role: Role, provider: string, trx: Tx) =>
        applyRemoval(ws, userId, role, OPERATOR, trx, provider),
    },

    // For the invitation service, which shares the lock discipline and the cache.
    internal: { load, roleIn, event, cache },
  };
}
export type WorkspaceService = ReturnType<typeof createWorkspaceService>;

async function findUser(accounts: AccountRepo, ref: string): Promise<UserRow> {
  const user = isUuid(ref) ? await accounts.findById(ref) : await accounts.findByEmail(normalizeEmail(String(ref ?? '')));
  if (!user) throw notFound(`No user "${ref}".`, 'user_not_found');
  return user;
}
