// The console's workspace pages, mounted on the admin console's router behind its gate (admin role,
// MFA, CSRF on every form; src/admin/console.pages.ts). The operator's powers of the CLI, through the
// workspaces service (its rules: name syntax, the last owner stays an owner), audited with the admin
// as actor; removing a member and deleting a workspace have a confirmation page.
//   GET /admin/workspaces · GET /admin/workspaces/:ws · POST …/rename · POST …/members (add by email)
//   POST …/members/:user/role · GET|POST …/members/:user/remove · GET|POST …/delete
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import type { PageRenderer } from '../http/page.ts';
import type { Origin, WorkspaceService } from '../workspaces/workspace.service.ts';
import { ROLES } from '../workspaces/roles.ts';

/** The one-line notices after a POST, by key (shown by the console's layout: CONSOLE_NOTICES). */
export const WORKSPACE_NOTICES = {
  'workspace-renamed': 'Workspace renamed.',
  'workspace-deleted': 'Workspace deleted.',
  'member-added': 'Member added.',
  'member-role-changed': 'Role changed.',
  'member-removed': 'Member removed.',
} as const;
export type WorkspaceNotice = keyof typeof WORKSPACE_NOTICES;

const refParams = z.object({ ws: z.string().min(1).max(100) });
const memberParams = refParams.extend({ user: z.string().min(1).max(100) });
const renameForm = z.object({ name: z.string().max(200).default('') });
const addForm = z.object({ email: z.string().max(320).default(''), role: z.string().max(20).default('member') });
const roleForm = z.object({ role: z.string().max(20).default('') });

export interface WorkspaceConsoleDeps {
  workspaces: WorkspaceService;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => Origin;
}

/** A refusal the person can fix (4xx other than an unknown workspace) as its message; anything else is thrown on. */
function fixable(e: unknown): string {
  if (e instanceof AppError && e.status < 500 && e.code !== 'workspace_not_found') return e.message;
  throw e;
}

/** Adds the workspace pages to the console's router (after its gate). */
export function addWorkspaceConsole(router: Router, deps: WorkspaceConsoleDeps): void {
  const { workspaces, render, form, origin } = deps;
  const back = (ctx: Context, path: string, notice: WorkspaceNotice) => { ctx.redirect(`${path}?notice=${notice}`); ctx.status = 303; };
  const pathOf = (id: string) => `/admin/workspaces/${encodeURIComponent(id)}`;

  async function workspacePage(ctx: Context, ref: string, extra: { errors?: Record<string, string>; values?: Record<string, string> } = {}, status = 200) {
    const ws = await workspaces.operatorShow(ref);
    const owners = ws.members.filter((m) => m.role === 'owner').length;
    render(ctx, 'workspace', {
      title: ws.name, workspace: ws, members: ws.members, roles: ROLES, owners,
      errors: extra.errors ?? {}, values: { name: ws.name, email: '', role: 'member', ...extra.values },
    }, status);
  }

  router.get('/workspaces', async (ctx) => { render(ctx, 'workspaces', { title: 'Workspaces', workspaces: await workspaces.operatorList() }); });
  router.get('/workspaces/:ws', guard({ params: refParams }), async (ctx) => {
    await workspacePage(ctx, guarded(ctx, { params: refParams }).params.ws);
  });

  router.post('/workspaces/:ws/rename', ...form, guard({ params: refParams, body: renameForm }), async (ctx) => {
    const { params: { ws }, body: { name } } = guarded(ctx, { params: refParams, body: renameForm });
    try {
      const renamed = await workspaces.operatorRename(ws, name.trim(), origin(ctx));
      back(ctx, pathOf(renamed.id), 'workspace-renamed');
    } catch (e) {
      await workspacePage(ctx, ws, { errors: { name: fixable(e) }, values: { name } }, 400);
    }
  });

  router.post('/workspaces/:ws/members', ...form, guard({ params: refParams, body: addForm }), async (ctx) => {
    const { params: { ws }, body: { email, role } } = guarded(ctx, { params: refParams, body: addForm });
    try {
      if (!email.trim()) throw new AppError(400, 'invalid_request', 'Enter the email address of an existing user.');
      const shown = await workspaces.operatorShow(ws);
      if (shown.members.some((m) => m.email.toLowerCase() === email.trim().toLowerCase())) {
        throw new AppError(409, 'already_member', `${email.trim()} is already a member: change their role in the table above.`);
      }
      await workspaces.operatorAddMember(shown.id, email.trim(), role, origin(ctx));
      back(ctx, pathOf(shown.id), 'member-added');
    } catch (e) {
      const message = e instanceof AppError && e.code === 'user_not_found'
        ? `No user has the email ${email.trim()}. Create the user first, or invite them from the workspace's own page.` : fixable(e);
      await workspacePage(ctx, ws, { errors: { email: message }, values: { email, role } }, 400);
    }
  });

  router.post('/workspaces/:ws/members/:user/role', ...form, guard({ params: memberParams, body: roleForm }), async (ctx) => {
    const { params: { ws, user }, body: { role } } = guarded(ctx, { params: memberParams, body: roleForm });
    try {
      const shown = await workspaces.operatorShow(ws);
      await workspaces.operatorChangeRole(shown.id, user, role, origin(ctx));
      back(ctx, pathOf(shown.id), 'member-role-changed');
    } catch (e) {
      await workspacePage(ctx, ws, { errors: { [`role-${user}`]: fixable(e) } }, e instanceof AppError ? e.status : 400);
    }
  });

  async function memberOf(ws: string, user: string) {
    const shown = await workspaces.operatorShow(ws);
    const member = shown.members.find((m) => m.user_id === user);
    if (!member) throw new AppError(404, 'member_not_found', `That user is not a member of workspace "${shown.slug}".`);
    return { shown, member };
  }
  router.get('/workspaces/:ws/members/:user/remove', guard({ params: memberParams }), async (ctx) => {
    const { ws, user } = guarded(ctx, { params: memberParams }).params;
    const { shown, member } = await memberOf(ws, user);
    render(ctx, 'workspace-confirm', {
      title: 'Remove this member?', heading: 'Remove this member?', lead: `${member.email} (${member.role}) from ${shown.name}.`,
      consequences: [
        'They lose access to the workspace at once: their next tokens no longer name it.',
        'Their account is not changed; add them again at any time.',
        ...(member.role === 'owner' && shown.members.filter((m) => m.role === 'owner').length <= 1 ? ['They are the last owner: make someone else an owner first, or this is refused.'] : []),
      ],
      action: `${pathOf(shown.id)}/members/${encodeURIComponent(user)}/remove`, button: 'Remove member', backTo: pathOf(shown.id),
    });
  });
  router.post('/workspaces/:ws/members/:user/remove', ...form, guard({ params: memberParams }), async (ctx) => {
    const { ws, user } = guarded(ctx, { params: memberParams }).params;
    const { shown, member } = await memberOf(ws, user);
    try {
      await workspaces.operatorRemoveMember(shown.id, member.user_id, origin(ctx));
      back(ctx, pathOf(shown.id), 'member-removed');
    } catch (e) {
      await workspacePage(ctx, shown.id, { errors: { [`role-${user}`]: fixable(e) } }, 409);
    }
  });

  router.get('/workspaces/:ws/delete', guard({ params: refParams }), async (ctx) => {
    const shown = await workspaces.operatorShow(guarded(ctx, { params: refParams }).params.ws);
    const n = shown.members.length;
    render(ctx, 'workspace-confirm', {
      title: 'Delete this workspace?', heading: 'Delete this workspace?', lead: `${shown.name} (${shown.slug}) will be deleted for good.`,
      consequences: [
        `Its ${n === 1 ? 'member loses' : `${n} members lose`} access to it at once; their accounts are not changed.`,
        'Its pending invitations stop working.',
        'This cannot be undone: the slug becomes free for a new workspace.',
      ],
      action: `${pathOf(shown.id)}/delete`, button: 'Delete workspace', backTo: pathOf(shown.id),
    });
  });
  router.post('/workspaces/:ws/delete', ...form, guard({ params: refParams }), async (ctx) => {
    await workspaces.operatorDelete(guarded(ctx, { params: refParams }).params.ws, origin(ctx));
    back(ctx, '/admin/workspaces', 'workspace-deleted');
  });
}
