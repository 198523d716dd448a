// The console's user pages, mounted on the admin console's router behind its gate (admin role, MFA,
// CSRF on every form; src/admin/console.pages.ts). The same services as the admin API
// (src/admin/admin.service.ts over src/accounts), so the rules are the same: email syntax and
// uniqueness, the password policy, no admin taking their own admin role away. Every change is audited
// with the admin as its actor; every destructive action has a confirmation page (GET says what
// will happen, POST does it).
//   GET /admin/users (search, pages) · GET|POST /admin/users/new
//   GET /admin/users/:id · POST …/{edit,password,reset-link,mfa-required,enable}
//   GET|POST …/{disable,reset-mfa,revoke-sessions,delete} · GET|POST …/sessions/:uid/end
//   POST …/impersonate (a bearer token) · POST …/support-link (a support session: src/admin/support-session.pages.ts)
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import type { PageRenderer } from '../http/page.ts';
import { requestOrigin } from '../audit/audit.ts';
import { userView, type UserView } from '../accounts/account.service.ts';
import { userAgentInWords } from '../http/user-agent.ts';
import type { Mfa } from '../mfa/index.ts';
import type { AdminOrigin, AdminService } from './admin.service.ts';
import { SUPPORT_LINK_TTL_SECONDS, type Impersonation } from './impersonation.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/password.ts';

const PAGE_SIZE = 25;
/** Past any real page; a larger number is someone typing, not paging. */
const MAX_PAGE = 100_000;

/** The one-line notices after a POST, by key (shown by the console's layout: CONSOLE_NOTICES). */
export const USER_NOTICES = {
  disabled: 'User disabled; their sessions ended.',
  enabled: 'User enabled.',
  'mfa-reset': 'Second factors removed.',
  'sessions-revoked': 'Every session and grant ended.',
  created: 'User created.',
  invited: 'User created; a link to set their password is on its way to them.',
  saved: 'Changes saved.',
  unchanged: 'Nothing changed.',
  'password-set': 'Password set; every session of theirs ended.',
  'reset-sent': 'A password reset link is on its way to them (valid 30 minutes).',
  'mfa-required-on': 'Two-step verification is now required for this user.',
  'mfa-required-off': 'Two-step verification is no longer required for this user.',
  'session-ended': 'That session ended.',
  'session-gone': 'That session had already ended.',
  deleted: 'User deleted.',
} as const;
export type UserNotice = keyof typeof USER_NOTICES;

const queryText = (max: number) => z.preprocess((v) => (typeof v === 'string' ? v.trim().slice(0, max) : ''), z.string());
const pageNo = z.preprocess((v) => Math.max(1, Math.min(MAX_PAGE, Number.parseInt(String(v ?? '1'), 10) || 1)), z.number());
const usersQuery = z.object({ q: queryText(200), page: pageNo });
const checkbox = z.string().max(10).optional().transform((v) => v !== undefined);
const text = (max: number) => z.string().max(max, `Use at most ${max} characters.`).default('');
const editForm = z.object({ name: text(200), email: text(320), email_verified: checkbox, admin: checkbox, roles: text(700) });
const newUserForm = editForm.extend({ password: text(1024), set: z.enum(['password', 'invite', 'none']).default('password') });
const passwordForm = z.object({ password: text(1024) });
const mfaRequiredForm = z.object({ mfa_required: checkbox });
const reasonForm = z.object({ reason: z.string().max(2000).default('') });
const sessionParams = z.object({ id: z.string().max(100), uid: z.string().min(1).max(200) });

export interface UserConsoleDeps {
  admin: AdminService;
  impersonation: Impersonation;
  mfa: Mfa;
  render: PageRenderer;
  /** the console's form middleware: body parser + CSRF check */
  form: Middleware[];
  origin: (ctx: Context) => AdminOrigin;
  /** the signed-in admin's id */
  adminId: (ctx: Context) => string;
  /** the issuer, for the support-session link */
  issuer: string;
}

/** Roles as the form shows them: "admin" as a checkbox, the rest as words. */
const rolesOf = (f: { admin: boolean; roles: string }) => [...(f.admin ? ['admin'] : []), ...f.roles.split(/[\s,]+/).filter((r) => r && r !== 'admin')];
interface EditValues { name: string; email: string; email_verified: boolean; admin: boolean; roles: string }
const valuesOf = (u: UserView): EditValues => ({
  name: u.name ?? '', email: u.email, email_verified: u.email_verified, admin: u.roles.includes('admin'), roles: u.roles.filter((r) => r !== 'admin').join(', '),
});

/** Which field a refusal of the services is about, so the page can put it next to that field. */
function fieldOf(code: string): string | undefined {
  if (code === 'invalid_email' || code === 'email_taken') return 'email';
  if (code === 'weak_password') return 'password';
  if (code === 'invalid_role' || code === 'self_demotion') return 'roles';
  if (code === 'reason_required') return 'reason';
  return undefined;
}
/** A refusal the person can fix (4xx other than not-found) as { field, message }; anything else is thrown on. */
function fixable(e: unknown): { field: string; message: string } {
  if (e instanceof AppError && e.status < 500 && e.code !== 'not_found') return { field: fieldOf(e.code) ?? 'form', message: e.message };
  throw e;
}

const fmt = (d: Date | string) => new Date(d).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** Adds the user pages to the console's router (after its gate). */
export function addUserConsole(router: Router, deps: UserConsoleDeps): void {
  const { admin, render, form, origin } = deps;
  const back = (ctx: Context, path: string, notice: UserNotice) => { ctx.redirect(`${path}?notice=${notice}`); ctx.status = 303; };
  const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

  /** The user page; `extra` carries a refused form's values and its error. */
  async function userPage(ctx: Context, id: string, extra: { edit?: EditValues; errors?: Record<string, string> } = {}, status = 200) {
    const u = await admin.user(id);
    const [factors, { events }, sessions, history] = await Promise.all([
      deps.mfa.factors(u.id),
      admin.auditEvents({ subject: u.id, limit: 20, offset: 0 }),
      admin.sessionsOf(u.id),
      deps.impersonation.historyFor(u.id),
    ]);
    const support = new Map(history.filter((h) => h.sessionUid && h.until).map((h) => [h.sessionUid!, `Support session by ${h.by} until ${fmt(h.until!)}`]));
    const self = u.id === deps.adminId(ctx);
    const view = userView(u);
    const canActAs = !self && !u.disabled_at && (!u.roles.includes('admin') || deps.impersonation.policy.allowAdminTargets);
    render(ctx, 'user', {
      title: u.email, user: { ...view, mfa_required: u.mfa_required, has_password: !!u.password_hash }, factors, events: events.map((e) => ({ ...e, when: fmt(e.at) })),
      sessions: sessions.map((s) => ({ uid: s.uid, device: userAgentInWords(s.user_agent), support: support.get(s.uid), ip: s.ip, lastSeen: fmt(s.last_seen_at), since: fmt(s.created_at) })),
      self, canActAs, adminTargetRefused: !self && u.roles.includes('admin') && !deps.impersonation.policy.allowAdminTargets,
      sessionMinutes: Math.round(deps.impersonation.policy.ttlSeconds / 60),
      edit: extra.edit ?? valuesOf(view), errors: extra.errors ?? {}, passwordMin: PASSWORD_MIN_LENGTH, passwordMax: PASSWORD_MAX_LENGTH,
    }, status);
  }

  /** A confirmation page: what will happen, a button that does it, a way back. */
  async function confirm(ctx: Context, id: string, c: { heading: string; lead?: string; consequences: string[]; action: string; button: string }) {
    const u = await admin.user(id);
    render(ctx, 'user-confirm', { title: c.heading, user: userView(u), ...c, backTo: userPath(u.id) });
  }

  // --- the list and creation
  router.get('/users', guard({ query: usersQuery }), async (ctx) => {
    const { q, page } = guarded(ctx, { query: usersQuery }).query;
    const { total, users } = await admin.searchUsers({ query: q || undefined, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    render(ctx, 'users', { title: 'Users', users: users.map(userView), q, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), total });
  });

  const newValues = { name: '', email: '', email_verified: false, admin: false, roles: '', set: 'invite' };
  router.get('/users/new', (ctx) => render(ctx, 'user-form', { title: 'Create a user', values: newValues, errors: {}, passwordMin: PASSWORD_MIN_LENGTH, passwordMax: PASSWORD_MAX_LENGTH }));
  router.post('/users/new', ...form, guard({ body: newUserForm }), async (ctx) => {
    const f = guarded(ctx, { body: newUserForm }).body;
    const values = { ...f, password: '' };
    const refuse = (field: string, message: string) =>
      render(ctx, 'user-form', { title: 'Create a user', values, errors: { [field]: message }, passwordMin: PASSWORD_MIN_LENGTH, passwordMax: PASSWORD_MAX_LENGTH }, 400);
    if (!f.email.trim()) return refuse('email', 'Enter the email address.');
    if (f.set === 'password' && !f.password) return refuse('password', 'Enter a password, or choose to send a link.');
    try {
      const created = await admin.createUser({
        email: f.email.trim(), name: f.name.trim() || undefined, password: f.set === 'password' ? f.password : undefined,
        roles: rolesOf(f), emailVerified: f.email_verified, invite: f.set === 'invite',
      }, origin(ctx));
      back(ctx, userPath(created.id), f.set === 'invite' ? 'invited' : 'created');
    } catch (e) {
      const { field, message } = fixable(e);
      refuse(field, message);
    }
  });

  // --- one user: what operators do most
  router.get('/users/:id', async (ctx) => { await userPage(ctx, ctx.params.id!); });

  router.post('/users/:id/edit', ...form, guard({ body: editForm }), async (ctx) => {
    const f = guarded(ctx, { body: editForm }).body;
    const id = ctx.params.id!;
    try {
      const before = await admin.user(id);
      const after = await admin.updateUser(id, { name: f.name, email: f.email, email_verified: f.email_verified, roles: rolesOf(f) }, origin(ctx));
      back(ctx, userPath(id), new Date(after.updated_at).getTime() === new Date(before.updated_at).getTime() ? 'unchanged' : 'saved');
    } catch (e) {
      const { field, message } = fixable(e);
      await userPage(ctx, id, { edit: f, errors: { [field === 'form' ? 'edit' : field]: message } }, 400);
    }
  });

  router.post('/users/:id/password', ...form, guard({ body: passwordForm }), async (ctx) => {
    const { password } = guarded(ctx, { body: passwordForm }).body;
    const id = ctx.params.id!;
    try {
      if (!password) throw new AppError(400, 'weak_password', 'Enter the new password.');
      await admin.setPassword(id, password, origin(ctx));
      back(ctx, userPath(id), 'password-set');
    } catch (e) {
      const { message } = fixable(e);
      await userPage(ctx, id, { errors: { password: message } }, 400);
    }
  });

  router.post('/users/:id/reset-link', ...form, async (ctx) => {
    const id = ctx.params.id!;
    try {
      await admin.sendResetLink(id, origin(ctx));
      back(ctx, userPath(id), 'reset-sent');
    } catch (e) {
      const { message } = fixable(e);
      await userPage(ctx, id, { errors: { reset: message } }, 409);
    }
  });

  router.post('/users/:id/mfa-required', ...form, guard({ body: mfaRequiredForm }), async (ctx) => {
    const { mfa_required } = guarded(ctx, { body: mfaRequiredForm }).body;
    await admin.updateUser(ctx.params.id!, { mfa_required }, origin(ctx));
    back(ctx, userPath(ctx.params.id!), mfa_required ? 'mfa-required-on' : 'mfa-required-off');
  });

  // --- sessions
  router.get('/users/:id/sessions/:uid/end', guard({ params: sessionParams }), async (ctx) => {
    const { id, uid } = guarded(ctx, { params: sessionParams }).params;
    const s = (await admin.sessionsOf(id)).find((r) => r.uid === uid);
    if (!s) return back(ctx, userPath(id), 'session-gone');
    await confirm(ctx, id, {
      heading: 'End this session?', lead: `${userAgentInWords(s.user_agent)}${s.ip ? `, ${s.ip}` : ''}, last seen ${fmt(s.last_seen_at)}.`,
      consequences: ['That browser is signed out at once; the user can sign in again.', 'Their other sessions, and the apps they use, are not affected.'],
      action: `${userPath(id)}/sessions/${encodeURIComponent(uid)}/end`, button: 'End session',
    });
  });
  router.post('/users/:id/sessions/:uid/end', ...form, guard({ params: sessionParams }), async (ctx) => {
    const { id, uid } = guarded(ctx, { params: sessionParams }).params;
    back(ctx, userPath(id), await admin.endSession(id, uid, origin(ctx)) ? 'session-ended' : 'session-gone');
  });

  // --- the confirmed actions
  const confirmed = (name: string, page: (ctx: Context, u: UserView) => { heading: string; lead?: string; consequences: string[]; button: string },
    run: (ctx: Context, id: string) => Promise<unknown>, notice: UserNotice, after: (id: string) => string = userPath) => {
    router.get(`/users/:id/${name}`, async (ctx) => {
      const u = userView(await admin.user(ctx.params.id!));
      await confirm(ctx, u.id, { ...page(ctx, u), action: `${userPath(u.id)}/${name}` });
    });
    router.post(`/users/:id/${name}`, ...form, async (ctx) => { await run(ctx, ctx.params.id!); back(ctx, after(ctx.params.id!), notice); });
  };
  confirmed('disable', () => ({
    heading: 'Disable this user?', button: 'Disable user',
    consequences: ['They cannot sign in, and every session, grant and token of theirs ends now.', 'Apps can no longer act for them.', 'Nothing is deleted: enable them again at any time.'],
  }), (ctx, id) => admin.disable(id, origin(ctx)), 'disabled');
  confirmed('reset-mfa', () => ({
    heading: 'Reset their two-step verification?', button: 'Remove second factors',
    consequences: ['Their authenticator app, passkeys and recovery codes are removed.', 'They sign in with their password alone until they set up a second factor again (at once, if two-step verification is required).'],
  }), (ctx, id) => admin.resetMfa(id, origin(ctx)), 'mfa-reset');
  confirmed('revoke-sessions', () => ({
    heading: 'End every session?', button: 'End all sessions',
    consequences: ['Every browser they are signed in on is signed out.', 'Every app\'s access ends: its tokens stop working and it must ask them to sign in again.'],
  }), (ctx, id) => admin.revokeSessions(id, origin(ctx)), 'sessions-revoked');
  confirmed('delete', (_ctx, u) => ({
    heading: 'Delete this user?', lead: `${u.email} will be deleted for good.`, button: 'Delete user',
    consequences: [
      'Their account, profile, second factors, linked sign-ins and workspace memberships are deleted.',
      'Every session, grant and token of theirs ends now; apps can no longer act for them.',
      'The audit log keeps its record of what happened, with their id.',
      'This cannot be undone. To stop them signing in for now, disable them instead.',
    ],
  }), (ctx, id) => admin.remove(id, origin(ctx)), 'deleted', () => '/admin/users');
  router.post('/users/:id/enable', ...form, async (ctx) => { await admin.enable(ctx.params.id!, origin(ctx)); back(ctx, userPath(ctx.params.id!), 'enabled'); });

  // --- acting as the user: a deliberate, secondary action
  router.post('/users/:id/impersonate', ...form, guard({ body: reasonForm }), async (ctx) => {
    const { reason } = guarded(ctx, { body: reasonForm }).body;
    const id = ctx.params.id!;
    let minted;
    try {
      minted = await deps.impersonation.mint({ adminId: deps.adminId(ctx), targetId: id, clientId: 'gatehouse-account', reason, origin: requestOrigin(ctx) });
    } catch (e) {
      const { message } = fixable(e);
      return userPage(ctx, id, { errors: { reason: message } }, 400);
    }
    const u = await admin.user(id);
    render(ctx, 'impersonated', { title: 'Impersonation token', user: userView(u), token: minted.access_token, minutes: Math.round(minted.expires_in / 60) });
  });
  router.post('/users/:id/support-link', ...form, guard({ body: reasonForm }), async (ctx) => {
    const { reason } = guarded(ctx, { body: reasonForm }).body;
    const id = ctx.params.id!;
    let link;
    try {
      link = await deps.impersonation.createSupportLink({ adminId: deps.adminId(ctx), targetId: id, reason, origin: requestOrigin(ctx) });
    } catch (e) {
      const { message } = fixable(e);
      return userPage(ctx, id, { errors: { reason: message } }, 400);
    }
    const u = await admin.user(id);
    // the link is on this answer only: a page, never a redirect (a URL would keep it)
    render(ctx, 'user-support-link', {
      title: 'Support session link', user: userView(u), url: `${deps.issuer}/support-session/${link.token}`,
      linkMinutes: Math.round(SUPPORT_LINK_TTL_SECONDS / 60), sessionMinutes: Math.round(link.sessionSeconds / 60), linkExpires: fmt(link.linkExpiresAt),
    });
  });
}
