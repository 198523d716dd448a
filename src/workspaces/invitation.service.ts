// Invitations: an owner or admin invites an address with a role; the mailed link carries a random
// token of which only the SHA-256 is stored. It works once, for 7 days, and only for an account
// with the invited address. Locks are always taken workspace first, then invitation, so invite,
// revoke and accept never deadlock; accepting twice at once succeeds once.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable, Transactions, Tx } from '../storage/transactions.ts';
import type { Audit } from '../audit/audit.ts';
import type { AccountService } from '../accounts/account.service.ts';
import { isUuid, type AccountRepo, type UserRow } from '../accounts/account.repo.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors/app-error.ts';
import type { InvitationRow, WorkspaceRepo, WorkspaceRow } from './workspace.repo.ts';
import type { Caller, Origin, WorkspaceService, WorkspaceView } from './workspace.service.ts';
import { workspaceView } from './workspace.service.ts';
import { checkCanInvite, checkCanManageInvitations, checkCanRevokeInvitation, type Role } from './roles.ts';
import { firstIssue, inviteInput } from './workspace.schema.ts';

export const INVITATION_TTL_SECONDS = 7 * 24 * 3600;
/** Enough for onboarding a large team at once; a cap so a compromised admin is not a mail cannon. */
export const MAX_OPEN_INVITATIONS = 200;
/** 256 bits: unguessable, and short enough for a link. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export type InvitationStatus = 'pending' | 'expired' | 'accepted' | 'revoked';
export interface InvitationView {
  id: string; workspace_id: string; email: string; role: Role; status: InvitationStatus;
  invited_by: string | null; created_at: string; expires_at: string;
}

/** What the invitation mail needs; sent inside the transaction, so a failed send creates nothing. */
export interface InvitationNotice { to: string; token: string; workspace: WorkspaceRow; role: Role; inviter: UserRow | undefined; expiresAt: Date }

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function statusOf(inv: InvitationRow, now = new Date()): InvitationStatus {
  if (inv.accepted_at) return 'accepted';
  if (inv.revoked_at) return 'revoked';
  return new Date(inv.expires_at) <= now ? 'expired' : 'pending';
}

export const invitationView = (inv: InvitationRow): InvitationView => ({
  id: inv.id, workspace_id: inv.workspace_id, email: inv.email, role: inv.role, status: statusOf(inv),
  invited_by: inv.invited_by, created_at: new Date(inv.created_at).toISOString(), expires_at: new Date(inv.expires_at).toISOString(),
});

const CLOSED: Record<Exclude<InvitationStatus, 'pending'>, [string, string]> = {
  accepted: ['invitation_used', 'This invitation has already been used.'],
  revoked: ['invitation_revoked', 'This invitation was withdrawn. Ask for a new one.'],
  expired: ['invitation_expired', 'This invitation has expired. Ask for a new one.'],
};

function assertOpen(inv: InvitationRow): void {
  const status = statusOf(inv);
  if (status !== 'pending') throw new AppError(410, ...CLOSED[status]);
}

const unknownInvitation = () => notFound('This invitation link is not valid. Check that you copied all of it.', 'invitation_not_found');

export function createInvitationService(deps: {
  transactions: Transactions; repo: WorkspaceRepo; accounts: AccountService; accountRepo: AccountRepo; workspaces: WorkspaceService; audit: Audit;
}) {
  const { transactions, repo, audit, accounts } = deps;
  const { load, roleIn, event, cache } = deps.workspaces.internal;

  async function byToken(token: unknown, trx?: Queryable): Promise<InvitationRow> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) throw unknownInvitation();
    const inv = await repo.findInvitationByHash(hashToken(token), trx);
    if (!inv) throw unknownInvitation();
    return inv;
  }

  /** Accepts for `user` inside `trx`: workspace lock, then the invitation re-read under its lock. */
  async function acceptIn(trx: Tx, invitationId: string, workspaceId: string, tokenHash: string, user: UserRow, origin: Origin): Promise<WorkspaceView> {
    const ws = await repo.findWorkspace({ id: workspaceId }, trx, { lock: true });
    const inv = await repo.findInvitationByHash(tokenHash, trx, { lock: true });
    if (!ws || !inv || inv.id !== invitationId) throw unknownInvitation();
    assertOpen(inv);
    if (normalizeEmail(user.email) !== inv.email_normalized) {
      throw forbidden('This invitation was sent to another email address. Sign in with that address to accept it.', 'invitation_email_mismatch');
    }
    const existing = await repo.findMembership(ws.id, user.id, trx);
    if (!existing) {
      await repo.insertMembership({ workspace_id: ws.id, user_id: user.id, role: inv.role }, trx);
      await audit.record(event('workspace.member_added', origin, user.id, { workspace_id: ws.id, role: inv.role, invitation_id: inv.id }), trx);
    }
    if ((await repo.markAccepted(inv.id, user.id, trx)) === 0) throw new AppError(410, ...CLOSED.accepted);
    await audit.record(event('workspace.invitation_accepted', origin, user.id, { workspace_id: ws.id, invitation_id: inv.id }), trx);
    return workspaceView(ws, { role: existing?.role ?? inv.role });
  }

  return {
    async invite(ref: unknown, input: unknown, caller: Caller, notify: (n: InvitationNotice) => Promise<void>): Promise<InvitationView> {
      const parsed = inviteInput.safeParse(input ?? {});
      if (!parsed.success) throw badRequest(firstIssue(parsed.error), 'invalid_invitation');
      const email = accounts.parseEmail(parsed.data.email);
      const emailNormalized = normalizeEmail(email);
      const { role } = parsed.data;
      return transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const actor = await roleIn(ws, caller.userId, trx);
        const problem = checkCanInvite(actor, role);
        if (problem) throw forbidden(problem, 'insufficient_role');
        const invitee = await deps.accountRepo.findByEmail(emailNormalized, trx);
        if (invitee && await repo.findMembership(ws.id, invitee.id, trx)) {
          throw conflict(`${email} is already a member of "${ws.slug}".`, 'already_member');
        }
        await repo.revokeOpenInvitationsFor(ws.id, emailNormalized, trx); // the newest invitation is the one that works
        if ((await repo.countPendingInvitations(ws.id, trx)) >= MAX_OPEN_INVITATIONS) {
          throw conflict(`"${ws.slug}" has ${MAX_OPEN_INVITATIONS} open invitations. Revoke some first.`, 'too_many_invitations');
        }
        const token = randomBytes(TOKEN_BYTES).toString('base64url');
        const expiresAt = new Date(Date.now() + INVITATION_TTL_SECONDS * 1000);
        const inv = await repo.insertInvitation({
          id: randomUUID(), workspace_id: ws.id, email, email_normalized: emailNormalized, role,
          token_hash: hashToken(token), invited_by: caller.userId, expires_at: expiresAt,
        }, trx);
        await audit.record(event('workspace.invitation_created', caller, caller.userId, { workspace_id: ws.id, invitation_id: inv.id, email, role }), trx);
        await notify({ to: email, token, workspace: ws, role, inviter: await deps.accountRepo.findById(caller.userId, trx), expiresAt });
        return invitationView(inv);
      });
    },

    async list(ref: unknown, caller: Caller): Promise<InvitationView[]> {
      const ws = await load(ref);
      const problem = checkCanManageInvitations(await roleIn(ws, caller.userId));
      if (problem) throw forbidden(problem, 'insufficient_role');
      return (await repo.listOpenInvitations(ws.id)).map(invitationView);
    },

    async revoke(ref: unknown, invitationId: unknown, caller: Caller): Promise<InvitationView> {
      if (typeof invitationId !== 'string' || !isUuid(invitationId)) throw badRequest('The invitation is named by its id (a UUID).', 'invalid_invitation');
      return transactions.run(async (trx) => {
        const ws = await load(ref, trx, true);
        const actor = await roleIn(ws, caller.userId, trx);
        const inv = await repo.findInvitation(ws.id, invitationId, trx);
        if (!inv) throw notFound(`No invitation ${invitationId} in "${ws.slug}".`, 'invitation_not_found');
        const problem = checkCanRevokeInvitation(actor, inv.role);
        if (problem) throw forbidden(problem, 'insufficient_role');
        if ((await repo.revokeInvitation(inv.id, trx)) === 0) throw conflict(`That invitation was already ${statusOf(inv)}.`, 'invitation_closed');
        await audit.record(event('workspace.invitation_revoked', caller, caller.userId, { workspace_id: ws.id, invitation_id: inv.id }), trx);
        return invitationView((await repo.findInvitation(ws.id, inv.id, trx))!);
      });
    },

    /** An open invitation for its landing page: 404 unknown, 410 used, revoked or expired. */
    async open(token: unknown): Promise<{ invitation: InvitationView; workspace: WorkspaceView; accountExists: boolean }> {
      const inv = await byToken(token);
      assertOpen(inv);
      const ws = await repo.findWorkspace({ id: inv.workspace_id });
      if (!ws) throw unknownInvitation();
      return { invitation: invitationView(inv), workspace: workspaceView(ws), accountExists: !!(await accounts.findByEmail(inv.email)) };
    },

    /** Accepts as an existing account, which must have the invited address. */
    async accept(token: unknown, user: UserRow, origin: Origin): Promise<WorkspaceView> {
      const inv = await byToken(token);
      const workspace = await transactions.run((trx) => acceptIn(trx, inv.id, inv.workspace_id, inv.token_hash, user, origin));
      cache.invalidate(user.id); // the new membership, on this node at once
      return workspace;
    },

    /** Signs up on the way: the mailed token proves the address, so the new account is verified. */
    async acceptAsNewAccount(token: unknown, input: { name?: string; password: string }): Promise<{ user: UserRow; workspace: WorkspaceView }> {
      const inv = await byToken(token);
      assertOpen(inv);
      const created = await transactions.run(async (trx) => {
        const user = await accounts.create({ email: inv.email, password: input.password, name: input.name, emailVerified: true }, trx);
        const workspace = await acceptIn(trx, inv.id, inv.workspace_id, inv.token_hash, user, { actorId: user.id });
        await audit.record(event('account.created', { actorId: user.id }, user.id, { via: 'invitation', invitation_id: inv.id }), trx);
        return { user, workspace };
      });
      cache.invalidate(created.user.id);
      return created;
    },
  };
}
export type InvitationService = ReturnType<typeof createInvitationService>;
