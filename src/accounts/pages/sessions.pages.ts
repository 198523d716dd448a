// Where you are signed in, and which apps may act for you: end a session or all of them; revoke
// an app's grant (its refresh tokens stop working at once).
import type { Context } from 'koa';
import { requestOrigin } from '../../audit/audit.ts';
import { guarded } from '../../http/guard.ts';
import { back, noticeOf, type AccountPageDeps } from './page-deps.ts';
import { accountForms } from './account-forms.ts';
import { liveSessions } from '../live-sessions.ts';
import { viewerOf } from './account-sign-in.ts';

function describeAgent(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\/|Chromium\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /curl|node|undici/i.test(ua) ? 'Command line' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

export function createSessionHandlers(deps: AccountPageDeps) {
  return {
    async list(ctx: Context) {
      const v = viewerOf(ctx);
      const sessions = (await liveSessions(deps, v.user.id)).map((r) => ({
        uid: r.uid, device: describeAgent(r.user_agent), ip: r.ip, createdAt: new Date(r.created_at), lastSeen: new Date(r.last_seen_at), current: r.uid === v.sessionUid,
      }));
      deps.page(ctx, 'account/sessions', { title: 'Sessions', sessions, notice: noticeOf(ctx) });
    },
    async end(ctx: Context) {
      const v = viewerOf(ctx);
      const { uid } = guarded(ctx, accountForms.sessionUid).params;
      const session = await deps.oidc.sessionByUid(uid);
      if (session?.accountId === v.user.id) await session.destroy();
      await deps.sessions.end(uid, { userId: v.user.id });
      await deps.audit.record({ type: 'session.ended', actorId: v.user.id, subjectId: v.user.id, ...requestOrigin(ctx) });
      back(ctx, '/account/sessions', 'session-ended');
    },
    async endAll(ctx: Context) {
      const v = viewerOf(ctx);
      await deps.lifecycle.endEverything(v.user.id);
      await deps.audit.record({ type: 'session.ended_all', actorId: v.user.id, subjectId: v.user.id, ...requestOrigin(ctx) });
      deps.page(ctx, 'account/notice', { title: 'Signed out everywhere', heading: 'Signed out everywhere', message: 'Every session, including this one, was signed out, and every app must ask you to sign in again.', link: '/account', linkText: 'Sign in' });
    },

    async apps(ctx: Context) {
      const v = viewerOf(ctx);
      const grants = await deps.adapters.listAccount(v.user.id, 'Grant');
      const apps = [];
      for (const g of grants) {
        if (g.payload.clientId === 'gatehouse-account') continue;
        const clientName = await deps.oidc.clientName(g.payload.clientId as string);
        apps.push({ grantId: g.id, name: clientName ?? g.payload.clientId, scopes: String((g.payload.openid as { scope?: string })?.scope ?? '').split(' ').filter(Boolean), since: g.payload.iat ? new Date((g.payload.iat as number) * 1000) : undefined });
      }
      deps.page(ctx, 'account/apps', { title: 'Apps', apps, notice: noticeOf(ctx) });
    },
    async revokeApp(ctx: Context) {
      const v = viewerOf(ctx);
      const { grantId } = guarded(ctx, accountForms.grantId).params;
      const grant = await deps.oidc.findGrant(grantId);
      if (grant?.accountId === v.user.id) {
        await deps.adapters('Grant').revokeByGrantId(grantId);
        await grant.destroy();
        await deps.audit.record({ type: 'grant.revoked', actorId: v.user.id, subjectId: v.user.id, clientId: grant.clientId, ...requestOrigin(ctx) });
      }
      back(ctx, '/account/apps', 'app-revoked');
    },
  };
}
