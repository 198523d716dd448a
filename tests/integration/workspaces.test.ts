// The workspace and invitation services on real stores (PostgreSQL, and the embedded PGlite),
// wired as the server wires them: the role rules, the last owner under concurrency, single-use
// invitations, the active workspace's fallback, and nothing half-created when a step fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testRoot, type Root } from '../support/root.ts';
import { AppError } from '../../src/errors/app-error.ts';
import type { Caller } from '../../src/workspaces/workspace.service.ts';
import { hashToken, type InvitationNotice } from '../../src/workspaces/invitation.service.ts';
import { requireReal } from '../support/env.ts';
import { migratedEmbedded, migratedPostgres, tempDir, testConfig, type OpenStore } from '../support/stores.ts';

requireReal();

const PASSWORD = 'correct horse battery staple';
const CONCURRENT = 5;

let seq = 0;
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${seq++}`;

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
const statusAndCode = async (p: Promise<unknown>) => { const e = await appError(p); return [e.status, e.code]; };

const backends: Array<[string, () => Promise<OpenStore & { url?: string; dataDir?: string }>]> = [
  ['PostgreSQL', migratedPostgres],
  ['embedded PGlite', migratedEmbedded],
];

describe.each(backends)('workspaces on %s', (_name, open) => {
  let store: OpenStore;
  let c: Root;
  const dir = tempDir();

  beforeAll(async () => {
    store = await open();
    const url = (store as { url?: string }).url;
    c = testRoot(testConfig({ databaseUrl: url, dataDir: dir.path }), store.db);
  });
  afterAll(async () => {
    await store?.dispose();
    dir.remove();
  });

  async function user(label = 'u') {
    const u = await c.accounts.create({ email: `${unique(label)}@example.com`, password: PASSWORD, emailVerified: true });
    return { ...u, caller: { userId: u.id, actorId: u.id } as Caller };
  }
  async function workspaceOf(owner: Awaited<ReturnType<typeof user>>, label = 'ws') {
    return c.workspaces.create({ slug: unique(label), name: `Workspace ${label}` }, owner.id, owner.caller);
  }
  const membersOf = async (wsId: string) => c.db.knex('memberships').where({ workspace_id: wsId }).orderBy('user_id');

  describe('create', () => {
    it('makes the creator the owner and records an audit event in the same transaction', async () => {
      const owner = await user();
      const ws = await workspaceOf(owner, 'acme');
      expect(ws).toMatchObject({ slug: expect.stringMatching(/^acme-/), role: 'owner' });
      expect(await membersOf(ws.id)).toEqual([expect.objectContaining({ user_id: owner.id, role: 'owner' })]);
      const events = await c.db.knex('audit_events').where({ type: 'workspace.created', subject_id: owner.id });
      expect(events).toHaveLength(1);
    });

    it('refuses malformed slugs and names with 400, duplicate slugs with 409, and leaves nothing behind', async () => {
      const owner = await user();
      for (const slug of ['Acme', 'a', '-acme', 'acme-', 'ac--me', 'ac me', 'ac_me', 'x'.repeat(64), '123e4567-e89b-12d3-a456-426614174000', '']) {
        expect(await statusAndCode(c.workspaces.create({ slug, name: 'X' }, owner.id, owner.caller))).toEqual([400, 'invalid_workspace']);
      }
      for (const name of ['', '   ', 'x'.repeat(101), 'bad\u0000name']) {
        expect(await statusAndCode(c.workspaces.create({ slug: unique('n'), name }, owner.id, owner.caller))).toEqual([400, 'invalid_workspace']);
      }
      const slug = unique('dup');
      await c.workspaces.create({ slug, name: 'First' }, owner.id, owner.caller);
      const other = await user();
      const before = await c.db.knex('memberships').count<{ count: string }[]>('* as count');
      expect(await statusAndCode(c.workspaces.create({ slug, name: 'Second' }, other.id, other.caller))).toEqual([409, 'slug_taken']);
      expect(await c.db.knex('workspaces').where({ slug })).toHaveLength(1);
      expect(await c.db.knex('memberships').count<{ count: string }[]>('* as count')).toEqual(before);
      expect(await c.db.knex('memberships').where({ user_id: other.id })).toHaveLength(0);
    });

    it('parallel creations of one slug: exactly one workspace, one owner', async () => {
      const slug = unique('race');
      const owners = await Promise.all(Array.from({ length: CONCURRENT }, () => user('racer')));
      const results = await Promise.allSettled(owners.map((o) => c.workspaces.create({ slug, name: 'Race' }, o.id, o.caller)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [ws] = await c.db.knex('workspaces').where({ slug });
      expect(await membersOf(ws.id)).toHaveLength(1);
    });
  });

  describe('roles', () => {
    it('a member cannot raise their own role or manage others; an admin cannot touch owners', async () => {
      const owner = await user('owner');
      const admin = await user('admin');
      const member = await user('member');
      const ws = await workspaceOf(owner);
      await c.workspaces.operatorAddMember(ws.slug, admin.email, 'admin');
      await c.workspaces.operatorAddMember(ws.id, member.email, 'member');

      for (const role of ['admin', 'owner']) {
        expect(await statusAndCode(c.workspaces.changeRole(ws.id, member.id, role, member.caller))).toEqual([403, 'insufficient_role']);
      }
      expect(await statusAndCode(c.workspaces.removeMember(ws.id, admin.id, member.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.rename(ws.id, 'Mine now', member.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.remove(ws.id, member.caller))).toEqual([403, 'insufficient_role']);

      expect(await statusAndCode(c.workspaces.changeRole(ws.id, admin.id, 'owner', admin.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, member.id, 'owner', admin.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, owner.id, 'member', admin.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.removeMember(ws.id, owner.id, admin.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.workspaces.remove(ws.id, admin.caller))).toEqual([403, 'insufficient_role']);

      // nothing changed
      expect((await membersOf(ws.id)).map((m) => m.role).sort()).toEqual(['admin', 'member', 'owner']);

      // what they may do
      expect((await c.workspaces.changeRole(ws.id, member.id, 'admin', admin.caller)).role).toBe('admin');
      expect((await c.workspaces.changeRole(ws.id, member.id, 'member', admin.caller)).role).toBe('member');
      expect((await c.workspaces.members(ws.id, member.caller)).map((m) => m.user_id).sort()).toEqual([owner.id, admin.id, member.id].sort());
      expect(await c.workspaces.removeMember(ws.id, member.id, member.caller)).toEqual({ removed: member.id }); // leaving
      expect((await c.workspaces.rename(ws.id, 'Renamed', owner.caller)).name).toBe('Renamed');
    });

    it('a non-member gets 403 by id and by slug; unknown 404; malformed 400', async () => {
      const owner = await user();
      const stranger = await user('stranger');
      const ws = await workspaceOf(owner);
      for (const ref of [ws.id, ws.slug, ws.slug.toUpperCase()]) {
        expect(await statusAndCode(c.workspaces.members(ref, stranger.caller))).toEqual([403, 'not_a_member']);
        expect(await statusAndCode(c.workspaces.changeRole(ref, stranger.id, 'owner', stranger.caller))).toEqual([403, 'not_a_member']);
        expect(await statusAndCode(c.workspaces.setActive(stranger.id, ref, stranger.caller))).toEqual([403, 'not_a_member']);
        expect(await statusAndCode(c.workspaces.chooseActive(stranger.id, ref, stranger.caller))).toEqual([403, 'not_a_member']);
      }
      expect(await statusAndCode(c.workspaces.members('00000000-0000-4000-8000-000000000000', owner.caller))).toEqual([404, 'workspace_not_found']);
      expect(await statusAndCode(c.workspaces.members('no-such-workspace', owner.caller))).toEqual([404, 'workspace_not_found']);
      expect(await statusAndCode(c.workspaces.members('Not A Slug!', owner.caller))).toEqual([400, 'invalid_workspace']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, 'not-a-uuid', 'member', owner.caller))).toEqual([400, 'invalid_member']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, stranger.id, 'member', owner.caller))).toEqual([404, 'member_not_found']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, owner.id, 'superuser', owner.caller))).toEqual([400, 'invalid_role']);
      expect((await c.db.knex('users').where({ id: stranger.id }).first()).active_workspace_id).toBeNull();
    });
  });

  describe('the last owner', () => {
    it('cannot leave, be removed or be demoted', async () => {
      const owner = await user();
      const admin = await user('admin');
      const ws = await workspaceOf(owner);
      await c.workspaces.operatorAddMember(ws.id, admin.email, 'admin');
      expect(await statusAndCode(c.workspaces.removeMember(ws.id, owner.id, owner.caller))).toEqual([409, 'last_owner']);
      expect(await statusAndCode(c.workspaces.changeRole(ws.id, owner.id, 'admin', owner.caller))).toEqual([409, 'last_owner']);
      expect(await statusAndCode(c.workspaces.operatorRemoveMember(ws.id, owner.email))).toEqual([409, 'last_owner']);
      expect(await statusAndCode(c.workspaces.operatorAddMember(ws.id, owner.email, 'member'))).toEqual([409, 'last_owner']);
      // with a second owner, the first may step down
      await c.workspaces.changeRole(ws.id, admin.id, 'owner', owner.caller);
      expect((await c.workspaces.changeRole(ws.id, owner.id, 'member', owner.caller)).role).toBe('member');
    });

    it('two owners stepping down at once, or leaving at once: one stays owner (409 last_owner)', async () => {
      for (const action of ['demote', 'leave'] as const) {
        const a = await user('a');
        const b = await user('b');
        const ws = await workspaceOf(a);
        await c.workspaces.operatorAddMember(ws.id, b.email, 'owner');
        const results = await Promise.allSettled([a, b].map((o) => (action === 'demote'
          ? c.workspaces.changeRole(ws.id, o.id, 'member', o.caller)
          : c.workspaces.removeMember(ws.id, o.id, o.caller))));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
        expect([rejected.reason.status, rejected.reason.code]).toEqual([409, 'last_owner']);
        expect((await membersOf(ws.id)).filter((m) => m.role === 'owner')).toHaveLength(1);
      }
    });
  });

  describe('the active workspace', () => {
    it('stays put; a removal or deletion falls back to the next workspace (oldest membership), or none', async () => {
      const owner = await user();
      const u = await user('active');
      const first = await workspaceOf(owner, 'first');
      const second = await workspaceOf(owner, 'second');
      const third = await workspaceOf(owner, 'third');
      for (const ws of [first, second, third]) await c.workspaces.operatorAddMember(ws.id, u.email, 'member');

      expect(await c.workspaces.needsChoice(u.id)).toHaveLength(3); // several, none active: the picker
      const unsettled = await c.workspaces.claimsSource(u.id, { settle: false });
      expect(unsettled.active).toBeUndefined();

      await c.workspaces.setActive(u.id, second.slug, u.caller);
      expect((await c.workspaces.claimsSource(u.id, { settle: true })).active?.id).toBe(second.id);
      expect(await c.workspaces.needsChoice(u.id)).toBeUndefined();

      await c.workspaces.removeMember(second.id, u.id, owner.caller);
      expect((await c.db.knex('users').where({ id: u.id }).first()).active_workspace_id).toBeNull();
      const afterRemoval = await c.workspaces.claimsSource(u.id, { settle: true });
      expect(afterRemoval.active?.id).toBe(first.id);
      expect(afterRemoval.memberships.map((m) => m.id)).toEqual([first.id, third.id]);
      expect((await c.db.knex('users').where({ id: u.id }).first()).active_workspace_id).toBe(first.id); // stored

      await c.workspaces.remove(first.id, owner.caller);
      expect((await c.workspaces.claimsSource(u.id, { settle: true })).active?.id).toBe(third.id);
      await c.workspaces.operatorRemoveMember(third.slug, u.email);
      const none = await c.workspaces.claimsSource(u.id, { settle: true });
      expect(none.active).toBeUndefined();
      expect(none.memberships).toEqual([]);
    });

    it('switching to a workspace while it is deleted: no deadlock, and nobody is left pointing at it', async () => {
      const owner = await user();
      const ws = await workspaceOf(owner, 'vanishing');
      const users = await Promise.all(Array.from({ length: CONCURRENT }, () => user('switcher')));
      for (const u of users) await c.workspaces.operatorAddMember(ws.id, u.email, 'member');
      const results = await Promise.allSettled([
        ...users.map((u) => c.workspaces.setActive(u.id, ws.id, u.caller)),
        c.workspaces.remove(ws.id, owner.caller),
        ...users.map((u) => c.workspaces.chooseActive(u.id, ws.slug, u.caller)),
      ]);
      for (const r of results) if (r.status === 'rejected') expect([403, 404]).toContain((r.reason as AppError).status);
      expect(await c.db.knex('workspaces').where({ id: ws.id })).toHaveLength(0);
      expect(await c.db.knex('users').whereIn('id', users.map((u) => u.id)).whereNotNull('active_workspace_id')).toHaveLength(0);
    });

    it('a stale stored workspace is never returned, even without settling', async () => {
      const owner = await user();
      const u = await user('stale');
      const ws = await workspaceOf(owner);
      await c.workspaces.operatorAddMember(ws.id, u.email, 'admin');
      await c.workspaces.setActive(u.id, ws.id, u.caller);
      await c.db.knex('memberships').where({ workspace_id: ws.id, user_id: u.id }).del(); // behind the service's back
      expect((await c.workspaces.claimsSource(u.id, { settle: false })).active).toBeUndefined();
      expect((await c.workspaces.claimsSource(u.id, { settle: true })).active).toBeUndefined();
    });
  });

  describe('invitations', () => {
    const sent: InvitationNotice[] = [];
    const notify = async (n: InvitationNotice) => { sent.push(n); };
    const tokenFor = (email: string) => sent.filter((n) => n.to === email).at(-1)!.token;

    it('stores only a hash of a 256-bit token, mails the token, and works once', async () => {
      const owner = await user();
      const invitee = await user('invitee');
      const ws = await workspaceOf(owner);
      const inv = await c.invitations.invite(ws.slug, { email: invitee.email.toUpperCase(), role: 'admin' }, owner.caller, notify);
      expect(inv).toMatchObject({ status: 'pending', role: 'admin' });
      const token = tokenFor(invitee.email.toUpperCase());
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const row = await c.db.knex('invitations').where({ id: inv.id }).first();
      expect(row.token_hash).toBe(hashToken(token));
      expect(JSON.stringify(row)).not.toContain(token);
      expect(new Date(row.expires_at).getTime() - Date.now()).toBeGreaterThan(6.9 * 86400_000);

      expect((await c.invitations.accept(token, invitee, invitee.caller)).role).toBe('admin');
      expect((await membersOf(ws.id)).find((m) => m.user_id === invitee.id)?.role).toBe('admin');
      expect(await statusAndCode(c.invitations.accept(token, invitee, invitee.caller))).toEqual([410, 'invitation_used']);
      expect(await statusAndCode(c.invitations.accept('x'.repeat(43), invitee, invitee.caller))).toEqual([404, 'invitation_not_found']);
      expect(await statusAndCode(c.invitations.open('short'))).toEqual([404, 'invitation_not_found']);
    });

    it('another address cannot accept; the invitation stays open for the right one', async () => {
      const owner = await user();
      const invitee = await user('right');
      const other = await user('wrong');
      const ws = await workspaceOf(owner);
      await c.invitations.invite(ws.id, { email: invitee.email }, owner.caller, notify);
      const token = tokenFor(invitee.email);
      expect(await statusAndCode(c.invitations.accept(token, other, other.caller))).toEqual([403, 'invitation_email_mismatch']);
      expect(await c.db.knex('memberships').where({ user_id: other.id })).toHaveLength(0);
      expect((await c.invitations.open(token)).invitation.status).toBe('pending');
      expect((await c.invitations.accept(token, invitee, invitee.caller)).role).toBe('member');
    });

    it(`${CONCURRENT} parallel accepts of one invitation: one membership, the rest 410`, async () => {
      const owner = await user();
      const invitee = await user('parallel');
      const ws = await workspaceOf(owner);
      await c.invitations.invite(ws.id, { email: invitee.email }, owner.caller, notify);
      const token = tokenFor(invitee.email);
      const results = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => c.invitations.accept(token, invitee, invitee.caller)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect([r.reason.status, r.reason.code]).toEqual([410, 'invitation_used']);
      expect(await c.db.knex('memberships').where({ workspace_id: ws.id, user_id: invitee.id })).toHaveLength(1);
    });

    it('revoked, expired and superseded invitations are refused with 410', async () => {
      const owner = await user();
      const invitee = await user('revoked');
      const ws = await workspaceOf(owner);
      const inv = await c.invitations.invite(ws.id, { email: invitee.email }, owner.caller, notify);
      const first = tokenFor(invitee.email);
      expect((await c.invitations.list(ws.id, owner.caller)).map((i) => i.id)).toEqual([inv.id]);
      expect((await c.invitations.revoke(ws.id, inv.id, owner.caller)).status).toBe('revoked');
      expect(await statusAndCode(c.invitations.revoke(ws.id, inv.id, owner.caller))).toEqual([409, 'invitation_closed']);
      expect(await statusAndCode(c.invitations.accept(first, invitee, invitee.caller))).toEqual([410, 'invitation_revoked']);
      expect(await c.invitations.list(ws.id, owner.caller)).toEqual([]);

      await c.invitations.invite(ws.id, { email: invitee.email }, owner.caller, notify);
      const old = tokenFor(invitee.email);
      await c.invitations.invite(ws.id, { email: invitee.email }, owner.caller, notify); // supersedes
      expect(await statusAndCode(c.invitations.accept(old, invitee, invitee.caller))).toEqual([410, 'invitation_revoked']);

      const current = tokenFor(invitee.email);
      await c.db.knex('invitations').where({ token_hash: hashToken(current) }).update({ expires_at: new Date(Date.now() - 1000) });
      expect(await statusAndCode(c.invitations.accept(current, invitee, invitee.caller))).toEqual([410, 'invitation_expired']);
      expect(await c.db.knex('memberships').where({ user_id: invitee.id })).toHaveLength(0);
    });

    it('who may invite: owners any role, admins not owners, members no one; members cannot be invited twice', async () => {
      const owner = await user();
      const admin = await user('admin');
      const member = await user('member');
      const ws = await workspaceOf(owner);
      await c.workspaces.operatorAddMember(ws.id, admin.email, 'admin');
      await c.workspaces.operatorAddMember(ws.id, member.email, 'member');
      const email = `${unique('new')}@example.com`;
      expect(await statusAndCode(c.invitations.invite(ws.id, { email }, member.caller, notify))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.invitations.invite(ws.id, { email, role: 'owner' }, admin.caller, notify))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.invitations.list(ws.id, member.caller))).toEqual([403, 'insufficient_role']);
      expect(await statusAndCode(c.invitations.invite(ws.id, { email: member.email }, owner.caller, notify))).toEqual([409, 'already_member']);
      expect(await statusAndCode(c.invitations.invite(ws.id, { email: 'not an email' }, owner.caller, notify))).toEqual([400, 'invalid_email']);
      expect(await statusAndCode(c.invitations.invite(ws.id, { email, role: 'king' }, owner.caller, notify))).toEqual([400, 'invalid_invitation']);
      const ownerInvite = await c.invitations.invite(ws.id, { email, role: 'owner' }, owner.caller, notify);
      expect(await statusAndCode(c.invitations.revoke(ws.id, ownerInvite.id, admin.caller))).toEqual([403, 'insufficient_role']);
      expect((await c.invitations.invite(ws.id, { email, role: 'admin' }, admin.caller, notify)).role).toBe('admin');
    });

    it('a failed mail creates nothing', async () => {
      const owner = await user();
      const ws = await workspaceOf(owner);
      const email = `${unique('nomail')}@example.com`;
      const failing = async () => { throw new AppError(503, 'temporarily_unavailable', 'SMTP is down'); };
      expect(await statusAndCode(c.invitations.invite(ws.id, { email }, owner.caller, failing))).toEqual([503, 'temporarily_unavailable']);
      expect(await c.db.knex('invitations').where({ workspace_id: ws.id })).toHaveLength(0);
      expect(await c.db.knex('audit_events').where({ type: 'workspace.invitation_created', subject_id: owner.id })).toHaveLength(0);
    });

    it('signing up on the way creates a verified account and the membership together, or neither', async () => {
      const owner = await user();
      const ws = await workspaceOf(owner);
      const email = `${unique('signup')}@example.com`;
      await c.invitations.invite(ws.id, { email, role: 'member' }, owner.caller, notify);
      const token = tokenFor(email);
      expect(await statusAndCode(c.invitations.acceptAsNewAccount(token, { name: 'New', password: 'short' }))).toEqual([400, 'weak_password']);
      expect(await c.db.knex('users').where({ email_normalized: email })).toHaveLength(0);
      const { user: created, workspace } = await c.invitations.acceptAsNewAccount(token, { name: 'New Person', password: PASSWORD });
      expect(created).toMatchObject({ email, email_verified: true, name: 'New Person' });
      expect(workspace).toMatchObject({ id: ws.id, role: 'member' });
      expect(await statusAndCode(c.invitations.acceptAsNewAccount(token, { password: PASSWORD }))).toEqual([410, 'invitation_used']);
    });
  });
});
