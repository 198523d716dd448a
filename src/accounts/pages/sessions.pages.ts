// Where you are signed in, and which apps may act for you: end a session or all of them; revoke
// an app's grant (its refresh tokens stop working at once).
import type { Context } from 'koa';
import { requestOrigin } from '../../audit/audit.ts';
import { guarded } from '../../http/guard.ts';
import { back, noticeOf, translatorFor, type AccountPageDeps } from './page-deps.ts';
import { describeUserAgent } from '../../http/user-agent.ts';
import { pageLanguage } from '../../http/locale.ts';
import type { Translate } from '../../render/i18n.ts';
import { accountForms } from './account-forms.ts';
import { liveSessions } from '../live-sessions.ts';
import { viewerOf } from './account-sign-in.ts';

/** "Chrome on Linux", in the page's language. */
function deviceWords(t: Translate, ua: string | null): string {
  const d = describeUserAgent(ua);
  if (d.commandLine) return t('account:sessions.device.commandLine');
  if (d.browser && d.os) return t('account:sessions.device.both', { browser: d.browser, os: d.os });
  return d.browser ?? d.os ?? (ua ? t('account:sessions.device.browser') : t('account:sessions.device.unknown'));
}

/** A scope in the consent page's plain words (locales/<lang>/scopes.json: `:` in a scope is `_` in its key). */
export function scopeWordsFor(t: Translate, catalog: Record<string, unknown>, product: string) {
  return (scope: string): string => {
    const key = scope.replace(/:/g, '_');
    return typeof catalog[key] === 'string' && key !== 'other' ? t(`scopes:${key}`, { product }) : t('scopes:other', { scope });
  };
}

export function createSessionHandlers(deps: AccountPageDeps) {
  return {
    async list(ctx: Context) {
      const v = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      const sessions = (await liveSessions(deps, v.user.id)).map((r) => ({
        uid: r.uid, device: deviceWords(t, r.user_agent), ip: r.ip, createdAt: new Date(r.created_at), lastSeen: new Date(r.last_seen_at), current: r.uid === v.sessionUid,
      }));
      // ── issue 17, support sessions (src/admin/impersonation.ts): which sessions an admin opened, by whom, until when
      const support = Object.fromEntries((await deps.impersonation.historyFor(v.user.id) as Array<{ by: string; sessionUid?: string; until?: Date }>)
        .filter((h) => h.sessionUid && h.until).map((h) => [h.sessionUid!, { by: h.by, until: h.until!.toISOString().slice(0, 16).replace('T', ' ') }]));
      // ── end support sessions
      deps.page(ctx, 'account/sessions', { title: t('account:sessions.title'), sessions, notice: noticeOf(ctx), support });
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
      const t = translatorFor(deps, ctx);
      deps.page(ctx, 'account/notice', {
        title: t('account:sessions.endedAllTitle'), heading: t('account:sessions.endedAllTitle'), message: t('account:sessions.endedAllMessage'),
        link: '/account', linkText: t('account:sessions.signIn'), done: true,
      });
    },

    async apps(ctx: Context) {
      const v = viewerOf(ctx);
      const t = translatorFor(deps, ctx);
      const scopeWords = scopeWordsFor(t, deps.views.i18n.catalog(pageLanguage(ctx), 'scopes'), deps.views.brand.name);
      const grants = await deps.adapters.listAccount(v.user.id, 'Grant');
      const apps = [];
      for (const g of grants) {
        if (g.payload.clientId === 'gatehouse-account') continue;
        const clientName = await deps.oidc.clientName(g.payload.clientId as string);
        apps.push({ grantId: g.id, name: clientName ?? g.payload.clientId, scopes: String((g.payload.openid as { scope?: string })?.scope ?? '').split(' ').filter(Boolean).map(scopeWords), since: g.payload.iat ? new Date((g.payload.iat as number) * 1000) : undefined });
      }
      deps.page(ctx, 'account/apps', { title: t('account:apps.title'), apps, notice: noticeOf(ctx) });
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
