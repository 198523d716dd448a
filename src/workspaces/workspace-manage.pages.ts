// Workspaces for their owners, among the account pages (the account session, layout and nav). The
// same services and role rules as the JSON API (workspace.api.ts): the pages only add words. The
// order is the map:
//   GET  /account/workspaces                                  my workspaces (role, active) and "create"
//   POST /account/workspaces                                  create {name, slug}; I become owner
//   POST /account/workspaces/active                           switch the active workspace
//   GET  /account/workspaces/:ref                             one workspace: rename (owner), members and
//                                                             roles, invitations (owner, admin), leave
//   POST /account/workspaces/:ref/name                        rename (owner)
//   POST /account/workspaces/:ref/members/:userId/role        change a role (owner, admin)
//   GET  /account/workspaces/:ref/members/:userId/remove      "Remove …?"; POST removes (owner, admin)
//   GET  /account/workspaces/:ref/leave                       "Leave …?"; POST leaves (not the last owner)
//   POST /account/workspaces/:ref/invitations                 invite {email, role} (owner, admin)
//   GET  /account/workspaces/:ref/invitations/:id/revoke      "Revoke …?"; POST revokes (owner, admin)
// A workspace the viewer is not in is "not found", exactly like one that does not exist (no
// existence leak); a member asking for an owner's or admin's action gets a 403 page with a way back.
// Every change is audited by the services with the viewer as the actor.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Config } from '../config/index.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Views } from '../render/views.ts';
import type { LimiterFactory } from '../security/rate-limit.ts';
import type { AccountSession } from '../accounts/pages/account-sign-in.ts';
import { viewerOf } from '../accounts/pages/account-sign-in.ts';
import { createAccountPageRenderer } from '../accounts/pages/page-deps.ts';
import { requestOrigin } from '../audit/audit.ts';
import { AppError } from '../errors/app-error.ts';
import { formBody } from '../http/body.ts';
import { guard, guarded } from '../http/guard.ts';
import { pageLanguage } from '../http/locale.ts';
import { requireCsrf } from '../security/csrf.ts';
import { INVITE_LIMITS, recordFailure } from '../security/rate-limit.ts';
import type { Caller, MemberView, WorkspaceService, WorkspaceView } from './workspace.service.ts';
import type { InvitationNotice, InvitationService, InvitationView } from './invitation.service.ts';
import { INVITATION_TTL_SECONDS } from './invitation.service.ts';
import {
  assignableRoles, checkCanChangeRole, checkCanInvite, checkCanManageInvitations, checkCanRemove, checkCanRename,
  checkCanRevokeInvitation, type Role,
} from './roles.ts';
import { fieldErrors, fieldRules, isNoticeKey, workspaceForms as forms, type FieldErrors, type WorkspaceNotice } from './workspace.forms.ts';

export interface WorkspaceManageDeps {
  config: Config;
  workspaces: WorkspaceService;
  invitations: InvitationService;
  mailer: Mailer;
  limiters: LimiterFactory;
  views: Views;
  session: Pick<AccountSession, 'required'>;
}

export const WORKSPACES_PATH = '/account/workspaces';
const MANAGERS: ReadonlySet<Role> = new Set(['owner', 'admin']);
/** The service codes that mean "no such workspace for you": one answer for all of them. */
const NOT_YOURS = new Set(['not_a_member', 'workspace_not_found', 'invalid_workspace']);

const wsPath = (ws: Pick<WorkspaceView, 'slug'>) => `${WORKSPACES_PATH}/${encodeURIComponent(ws.slug)}`;

/** The invitation mail, as the API sends it (workspace.api.ts): the link carries the token once; the
 * words are the inviting page's language (the invitee may have no account yet). */
function invitationMailer(deps: Pick<WorkspaceManageDeps, 'mailer' | 'config'>) {
  return (n: InvitationNotice) => {
    const inviter = n.inviter?.name || n.inviter?.email || undefined;
    return deps.mailer.send({
      to: n.to,
      template: 'invitation',
      data: {
        inviter, context: inviter ? undefined : 'anonymous', workspaceName: n.workspace.name, role: n.role, days: INVITATION_TTL_SECONDS / 86400,
        url: `${deps.config.issuer}/invitations/accept?token=${encodeURIComponent(n.token)}`,
      },
    });
  };
}

interface Extra { error?: string; errors?: FieldErrors; values?: Record<string, string>; notice?: string }

export function createWorkspaceManageRouter(deps: WorkspaceManageDeps): Router {
  const { workspaces, invitations } = deps;
  const router = new Router({ prefix: WORKSPACES_PATH });
  const page = createAccountPageRenderer(deps);
  const form = [formBody(), requireCsrf(new URL(deps.config.issuer).origin)];
  const notify = invitationMailer(deps);
  const inviteLimit = deps.limiters(INVITE_LIMITS.inviter);

  /** The signed-in viewer (or a detour through sign-in), whose own language the page speaks. */
  const signedIn = deps.session.required();
  const inTheirLanguage = async (ctx: Context, next: Next) => {
    ctx.state.userLocale = viewerOf(ctx).user.locale ?? undefined;
    await next();
  };
  const gate = [signedIn, inTheirLanguage];

  const t = (ctx: Context) => deps.views.i18n.translator(pageLanguage(ctx));
  const caller = (ctx: Context): Caller => {
    const { user } = viewerOf(ctx);
    return { userId: user.id, actorId: user.id, clientId: null, ...requestOrigin(ctx) };
  };
  const noticeFrom = (ctx: Context): string | undefined => {
    const key = ctx.query.notice;
    return isNoticeKey(key) ? t(ctx)(`workspaces:notices.${key}`) : undefined;
  };
  function back(ctx: Context, path: string, notice: WorkspaceNotice): void {
    ctx.status = 303;
    ctx.redirect(`${path}?notice=${notice}`);
  }

  // ── the pages ───────────────────────────────────────────────────────────────────────────────

  async function showList(ctx: Context, extra: Extra = {}, status = 200) {
    const { user } = viewerOf(ctx);
    page(ctx, 'account-workspaces', {
      title: t(ctx)('workspaces:list.title'), current: WORKSPACES_PATH, accountEmail: user.email,
      workspaces: await workspaces.listMine(user.id), action: `${WORKSPACES_PATH}/active`,
      values: {}, errors: {}, ...extra,
    }, status);
  }

  /** A page for a workspace the viewer is not in, or that does not exist: the same words either way. */
  function notFound(ctx: Context) {
    page(ctx, 'workspaces/message', {
      title: t(ctx)('workspaces:notFound.title'), current: WORKSPACES_PATH,
      heading: 'workspaces:notFound.title', body: 'workspaces:notFound.body', vars: {},
      backHref: WORKSPACES_PATH, backLabel: 'workspaces:back.toList',
    }, 404);
  }

  /** 403: the viewer is a member, but this is an owner's or an admin's action. */
  function denied(ctx: Context, ws: WorkspaceView, reason: 'manage' | 'rename' | 'owners') {
    page(ctx, 'workspaces/message', {
      title: t(ctx)('workspaces:denied.title'), current: WORKSPACES_PATH,
      heading: 'workspaces:denied.title', body: `workspaces:denied.${reason}`, vars: { workspace: ws.name, role: t(ctx)(`workspaces:roles.${ws.role}`) },
      backHref: wsPath(ws), backLabel: 'workspaces:back.toWorkspace',
    }, 403);
  }

  /** Why `actor` may not do something a manager may: the member is not a manager at all, or an admin touched an owner. */
  const reasonFor = (actor: Role | undefined): 'manage' | 'owners' => (actor && MANAGERS.has(actor) ? 'owners' : 'manage');

  /** The workspace named in the path, as the viewer sees it, or undefined after a 404 page. */
  async function workspaceOf(ctx: Context): Promise<WorkspaceView | undefined> {
    const ref = forms.workspace.params.safeParse({ ref: ctx.params.ref });
    if (!ref.success) { notFound(ctx); return undefined; }
    try {
      return await workspaces.get(ref.data.ref, caller(ctx));
    } catch (e) {
      if (e instanceof AppError && NOT_YOURS.has(e.code)) { notFound(ctx); return undefined; }
      throw e;
    }
  }

  async function showWorkspace(ctx: Context, ws: WorkspaceView, extra: Extra = {}, status = 200) {
    const me = caller(ctx).userId;
    const role = ws.role!;
    const manager = MANAGERS.has(role);
    const members = await workspaces.members(ws.id, caller(ctx));
    const owners = members.filter((m) => m.role === 'owner').length;
    const pending = manager && !checkCanManageInvitations(role) ? await invitations.list(ws.id, caller(ctx)) : [];
    const options = assignableRoles(role);
    page(ctx, 'workspaces/workspace', {
      title: ws.name, current: WORKSPACES_PATH, ws, role, path: wsPath(ws),
      canRename: !checkCanRename(role), canInvite: manager, inviteRoles: options,
      members: members.map((m) => {
        const self = m.user_id === me;
        return {
          ...m, self,
          // a role form only where another role could be given: not for the last owner (the service would refuse it)
          roleOptions: manager && !(m.role === 'owner' && owners <= 1) && !checkCanChangeRole(role, m.role, m.role, self)
            ? options.filter((r) => !checkCanChangeRole(role, m.role, r, self)) : [],
          canRemove: !self && !checkCanRemove(role, m.role, false),
        };
      }),
      invitations: pending.map((i) => ({ ...i, canRevoke: !checkCanRevokeInvitation(role, i.role), expires: i.expires_at.slice(0, 10) })),
      lastOwner: role === 'owner' && owners <= 1,
      values: {}, errors: {}, notice: noticeFrom(ctx), ...extra,
    }, status);
  }

  /** A confirmation page: what will happen, the button that does it, and the way back. */
  function confirm(ctx: Context, ws: WorkspaceView, o: { heading: string; body: string; button: string; action: string; vars: Record<string, string>; danger?: boolean }) {
    page(ctx, 'workspaces/confirm', { title: t(ctx)(o.heading, o.vars), current: WORKSPACES_PATH, ws, backHref: wsPath(ws), ...o });
  }

  /** A service refusal as a page: not yours → 404, not allowed → 403, a sentence on the workspace page otherwise. */
  async function refused(ctx: Context, ws: WorkspaceView, e: unknown, actor?: Role): Promise<void> {
    if (!(e instanceof AppError) || e.status >= 500) throw e;
    if (NOT_YOURS.has(e.code)) return notFound(ctx);
    if (e.code === 'insufficient_role') return denied(ctx, ws, reasonFor(actor));
    const key = ({
      member_not_found: 'memberGone', invalid_member: 'memberGone', invitation_not_found: 'invitationGone', invalid_invitation: 'invitationGone',
      last_owner: 'lastOwner', invitation_closed: 'invitationClosed',
    } as Record<string, string>)[e.code];
    if (!key) throw e;
    // the viewer's role may have just changed (the last owner stays owner; a removed viewer sees the 404)
    const fresh = await workspaceOf(ctx);
    if (!fresh) return;
    await showWorkspace(ctx, fresh, { error: t(ctx)(`workspaces:errors.${key}`, { workspace: ws.name }) }, e.status);
  }

  // ── my workspaces, create, switch ─────────────────────────────────────────────────────────────

  router.get('/', ...gate, guard(forms.list), async (ctx) => {
    const { switched } = guarded(ctx, forms.list).query;
    const active = switched ? (await workspaces.listMine(viewerOf(ctx).user.id)).find((w) => w.active) : undefined;
    await showList(ctx, { notice: active ? t(ctx)('workspaces:notices.switched', { name: active.name }) : noticeFrom(ctx) });
  });

  router.post('/', ...form, ...gate, guard(forms.create), async (ctx) => {
    const raw = guarded(ctx, forms.create).body;
    const parsed = fieldRules.create.safeParse(raw);
    if (!parsed.success) return showList(ctx, { values: raw, errors: fieldErrors(parsed.error) }, 400);
    const c = caller(ctx);
    try {
      const ws = await workspaces.create(parsed.data, c.userId, c);
      back(ctx, wsPath(ws), 'created');
    } catch (e) {
      if (e instanceof AppError && e.code === 'slug_taken') return showList(ctx, { values: raw, errors: { slug: 'workspaces:errors.slugTaken' } }, 409);
      throw e;
    }
  });

  router.post('/active', ...form, ...gate, guard(forms.switch), async (ctx) => {
    const { workspace_id: ref } = guarded(ctx, forms.switch).body;
    try {
      await workspaces.setActive(viewerOf(ctx).user.id, ref, caller(ctx));
    } catch (e) {
      // a workspace that does not exist and one the viewer is not in read the same
      if (e instanceof AppError && e.status < 500) return showList(ctx, { error: t(ctx)('workspaces:errors.notYours') }, e.status === 404 || e.status === 400 ? 403 : e.status);
      throw e;
    }
    ctx.status = 303;
    ctx.redirect(`${WORKSPACES_PATH}?switched=1`);
  });

  // ── one workspace ───────────────────────────────────────────────────────────────────────────

  router.get('/:ref', ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    await showWorkspace(ctx, ws);
  });

  router.post('/:ref/name', ...form, ...gate, guard(forms.rename), async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    if (checkCanRename(ws.role!)) return denied(ctx, ws, MANAGERS.has(ws.role!) ? 'rename' : 'manage');
    const raw = guarded(ctx, forms.rename).body;
    const parsed = fieldRules.rename.safeParse(raw);
    if (!parsed.success) return showWorkspace(ctx, ws, { values: raw, errors: fieldErrors(parsed.error) }, 400);
    try {
      const renamed = await workspaces.rename(ws.id, parsed.data.name, caller(ctx));
      back(ctx, wsPath(renamed), 'renamed');
    } catch (e) { await refused(ctx, ws, e, ws.role); }
  });

  /** The member named in the path, or undefined after the page that says why not. */
  async function memberOf(ctx: Context, ws: WorkspaceView): Promise<MemberView | undefined> {
    const params = forms.member.params.safeParse(ctx.params);
    const target = params.success ? (await workspaces.members(ws.id, caller(ctx))).find((m) => m.user_id === params.data.userId) : undefined;
    if (!target) await showWorkspace(ctx, ws, { error: t(ctx)('workspaces:errors.memberGone', { workspace: ws.name }) }, 404);
    return target;
  }

  router.post('/:ref/members/:userId/role', ...form, ...gate, guard(forms.role), async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    const actor = ws.role!;
    if (!MANAGERS.has(actor)) return denied(ctx, ws, 'manage');
    const target = await memberOf(ctx, ws); if (!target) return;
    const parsed = fieldRules.role.safeParse(guarded(ctx, forms.role).body);
    if (!parsed.success) return showWorkspace(ctx, ws, { error: t(ctx)('workspaces:errors.roleInvalid') }, 400);
    const self = target.user_id === caller(ctx).userId;
    if (checkCanChangeRole(actor, target.role, parsed.data.role, self)) return denied(ctx, ws, reasonFor(actor));
    try {
      await workspaces.changeRole(ws.id, target.user_id, parsed.data.role, caller(ctx));
      back(ctx, wsPath(ws), 'roleChanged');
    } catch (e) { await refused(ctx, ws, e, actor); }
  });

  router.get('/:ref/members/:userId/remove', ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    if (!MANAGERS.has(ws.role!)) return denied(ctx, ws, 'manage');
    const target = await memberOf(ctx, ws); if (!target) return;
    if (target.user_id === caller(ctx).userId) return ctx.redirect(`${wsPath(ws)}/leave`);
    if (checkCanRemove(ws.role!, target.role, false)) return denied(ctx, ws, reasonFor(ws.role));
    confirm(ctx, ws, {
      heading: 'workspaces:remove.title', body: 'workspaces:remove.body', button: 'workspaces:remove.button', danger: true,
      action: `${wsPath(ws)}/members/${encodeURIComponent(target.user_id)}/remove`,
      vars: { name: target.name || target.email, email: target.email, workspace: ws.name },
    });
  });

  router.post('/:ref/members/:userId/remove', ...form, ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    if (!MANAGERS.has(ws.role!)) return denied(ctx, ws, 'manage');
    const target = await memberOf(ctx, ws); if (!target) return;
    try {
      await workspaces.removeMember(ws.id, target.user_id, caller(ctx));
      back(ctx, wsPath(ws), 'removed');
    } catch (e) { await refused(ctx, ws, e, ws.role); }
  });

  router.get('/:ref/leave', ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    const owners = (await workspaces.members(ws.id, caller(ctx))).filter((m) => m.role === 'owner').length;
    if (ws.role === 'owner' && owners <= 1) return showWorkspace(ctx, ws, { error: t(ctx)('workspaces:errors.lastOwner', { workspace: ws.name }) }, 409);
    confirm(ctx, ws, {
      heading: 'workspaces:leave.title', body: 'workspaces:leave.body', button: 'workspaces:leave.button', danger: true,
      action: `${wsPath(ws)}/leave`, vars: { workspace: ws.name },
    });
  });

  router.post('/:ref/leave', ...form, ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    try {
      await workspaces.removeMember(ws.id, caller(ctx).userId, caller(ctx));
      back(ctx, WORKSPACES_PATH, 'left');
    } catch (e) { await refused(ctx, ws, e, ws.role); }
  });

  // ── invitations ─────────────────────────────────────────────────────────────────────────────

  router.post('/:ref/invitations', ...form, ...gate, guard(forms.invite), async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    const actor = ws.role!;
    if (checkCanManageInvitations(actor)) return denied(ctx, ws, 'manage');
    const raw = guarded(ctx, forms.invite).body;
    const parsed = fieldRules.invite.safeParse(raw);
    if (!parsed.success) return showWorkspace(ctx, ws, { values: raw, errors: fieldErrors(parsed.error) }, 400);
    if (checkCanInvite(actor, parsed.data.role)) return denied(ctx, ws, 'owners');
    const c = caller(ctx);
    // every invitation counts (each may send a mail), as on the API
    const wait = await recordFailure([[inviteLimit, c.userId]]);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return showWorkspace(ctx, ws, { values: raw, errors: { email: 'workspaces:errors.tooManyInvites' } }, 429);
    }
    try {
      await invitations.invite(ws.id, parsed.data, c, notify);
      back(ctx, wsPath(ws), 'invited');
    } catch (e) {
      const field = e instanceof AppError ? ({ already_member: 'alreadyMember', too_many_invitations: 'tooManyOpen', invalid_email: 'emailInvalid' } as Record<string, string>)[e.code] : undefined;
      if (field) return showWorkspace(ctx, ws, { values: raw, errors: { email: `workspaces:errors.${field}` } }, (e as AppError).status);
      await refused(ctx, ws, e, actor);
    }
  });

  /** The open invitation named in the path, or undefined after the page that says why not. */
  async function invitationOf(ctx: Context, ws: WorkspaceView): Promise<InvitationView | undefined> {
    const params = forms.invitation.params.safeParse(ctx.params);
    const found = params.success ? (await invitations.list(ws.id, caller(ctx))).find((i) => i.id === params.data.id) : undefined;
    if (!found) await showWorkspace(ctx, ws, { error: t(ctx)('workspaces:errors.invitationGone') }, 404);
    return found;
  }

  router.get('/:ref/invitations/:id/revoke', ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    if (checkCanManageInvitations(ws.role!)) return denied(ctx, ws, 'manage');
    const inv = await invitationOf(ctx, ws); if (!inv) return;
    if (checkCanRevokeInvitation(ws.role!, inv.role)) return denied(ctx, ws, 'owners');
    confirm(ctx, ws, {
      heading: 'workspaces:revoke.title', body: 'workspaces:revoke.body', button: 'workspaces:revoke.button', danger: true,
      action: `${wsPath(ws)}/invitations/${encodeURIComponent(inv.id)}/revoke`, vars: { email: inv.email, workspace: ws.name },
    });
  });

  router.post('/:ref/invitations/:id/revoke', ...form, ...gate, async (ctx) => {
    const ws = await workspaceOf(ctx); if (!ws) return;
    if (checkCanManageInvitations(ws.role!)) return denied(ctx, ws, 'manage');
    const params = forms.invitation.params.safeParse(ctx.params);
    try {
      await invitations.revoke(ws.id, params.success ? params.data.id : '', caller(ctx));
      back(ctx, wsPath(ws), 'revoked');
    } catch (e) { await refused(ctx, ws, e, ws.role); }
  });

  return router;
}
