// Opening a support session (src/admin/impersonation.ts): the page behind the single-use link the
// console shows an admin, meant for a private window. The link's token leaves the URL at once: the
// first GET moves it into an httpOnly cookie scoped to this page and redirects to the bare path
// (the request log records route patterns, never their parameters); the session opens only on a
// POST with the CSRF token, and never over a session the browser already has.
//   GET /support-session/:token → 303 /support-session · GET /support-session (what will happen) · POST /support-session
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Views } from '../render/views.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import { createPageRenderer } from '../http/page.ts';
import { formBody } from '../http/body.ts';
import { requireCsrf } from '../security/csrf.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import { SUPPORT_LINK_TOKEN, SUPPORT_LINK_TTL_SECONDS, type Impersonation } from './impersonation.ts';

const PATH = '/support-session';
const COOKIE = 'gh_support';

export interface SupportSessionDeps {
  impersonation: Impersonation;
  oidc: Pick<ProviderFacade, 'signedInAccountId'>;
  views: Views;
  issuer: string;
}

export function createSupportSessionRouter(deps: SupportSessionDeps): Router {
  const router = new Router();
  const secure = deps.issuer.startsWith('https:');
  const render = createPageRenderer({ views: deps.views, secure, prefix: 'admin/' });
  const linkMinutes = Math.round(SUPPORT_LINK_TTL_SECONDS / 60);
  const minutes = Math.round(deps.impersonation.policy.ttlSeconds / 60);
  const tokenOf = (ctx: Context) => ctx.cookies.get(COOKIE, { signed: true }) ?? '';
  const forget = (ctx: Context) => ctx.cookies.set(COOKIE, null, { path: PATH, httpOnly: true, sameSite: 'strict', secure, signed: true });
  const unusable = (ctx: Context, message?: string) => render(ctx, 'user-support-open', { title: 'Support link', state: 'used', linkMinutes, message }, 410);
  const signedIn = (ctx: Context) => render(ctx, 'user-support-open', { title: 'Support link', state: 'signed-in' }, 409);

  router.get(`${PATH}/:token`, (ctx) => {
    const token = ctx.params.token ?? '';
    ctx.set('Cache-Control', 'no-store');
    if (!SUPPORT_LINK_TOKEN.test(token)) return unusable(ctx);
    ctx.cookies.set(COOKIE, token, { path: PATH, httpOnly: true, sameSite: 'strict', secure, signed: true, maxAge: SUPPORT_LINK_TTL_SECONDS * 1000, overwrite: true });
    ctx.status = 303;
    ctx.redirect(PATH);
  });

  router.get(PATH, async (ctx) => {
    const link = await deps.impersonation.peekSupportLink(tokenOf(ctx));
    if (!link) return unusable(ctx);
    if (await deps.oidc.signedInAccountId(ctx)) return signedIn(ctx);
    render(ctx, 'user-support-open', { title: 'Open a support session', state: 'ready', link, minutes });
  });

  router.post(PATH, formBody(), requireCsrf(new URL(deps.issuer).origin), async (ctx) => {
    try {
      await deps.impersonation.openSupportSession(ctx, tokenOf(ctx), requestOrigin(ctx));
    } catch (e) {
      if (e instanceof AppError && e.code === 'signed_in') return signedIn(ctx);
      if (e instanceof AppError && e.status < 500) { forget(ctx); return unusable(ctx, e.code === 'link_used' ? undefined : e.message); }
      throw e;
    }
    forget(ctx);
    ctx.status = 303;
    ctx.redirect('/account/sessions');
  });
  return router;
}
