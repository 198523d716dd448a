// /account/identities: the upstream sign-ins linked to the account (hosted account session, like
// every /account page). The order is the map:
//   GET  /account/identities                  linked identities; "Link" buttons for the others
//                                             (they start GET /providers/:name/start?mode=link)
//   GET  /account/identities/:id/unlink       "Unlink …?" confirmation (recent sign-in)
//   POST /account/identities/:id/unlink       unlink (CSRF, recent sign-in); refused when it is the
//                                             last way to sign in, with the way forward
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requestOrigin } from '../audit/audit.ts';
import type { Config } from '../config/index.ts';
import { formBody } from '../http/body.ts';
import { guard, guarded } from '../http/guard.ts';
import type { Views } from '../render/views.ts';
import { requireCsrf } from '../security/csrf.ts';
import type { AccountSession } from '../accounts/pages/account-sign-in.ts';
import { viewerOf } from '../accounts/pages/account-sign-in.ts';
import { back, createAccountPageRenderer, noticeOf } from '../accounts/pages/page-deps.ts';
import type { Identities, LinkedIdentityView } from './identities.service.ts';

export interface IdentitiesPageDeps {
  identities: Identities;
  session: Pick<AccountSession, 'required'>;
  views: Views;
  config: Config;
}

const PATH = '/account/identities';
const LAST_WAY = 'This is the only way you can sign in. Set a password first, then you can unlink it.';
const identityParams = { params: z.object({ id: z.uuid({ message: 'not an identity' }) }) };

/** Where a "Link" button goes: the federation start route in link mode (src/federation/federation.routes.ts). */
export const linkUrl = (provider: string) => `/providers/${encodeURIComponent(provider)}/start?mode=link`;

export function createIdentitiesRouter(deps: IdentitiesPageDeps): Router {
  const router = new Router({ prefix: PATH });
  const page = createAccountPageRenderer(deps);
  const csrf = requireCsrf(new URL(deps.config.issuer).origin);
  const signedIn = deps.session.required();
  const recent = deps.session.required({ recent: true });

  async function list(ctx: Context, extra: Record<string, unknown> = {}, status = 200) {
    const { user } = viewerOf(ctx);
    const overview = await deps.identities.overview(user.id);
    page(ctx, 'account/identities', {
      title: 'Linked sign-ins', current: PATH, notice: noticeOf(ctx), ...overview, linkUrl, lastWay: LAST_WAY, ...extra,
    }, status);
  }

  /** The viewer's identity named in the path, or the list with a 404 sentence. */
  async function target(ctx: Context): Promise<LinkedIdentityView | undefined> {
    const found = await deps.identities.find(viewerOf(ctx).user.id, guarded(ctx, identityParams).params.id);
    if (!found) await list(ctx, { error: 'That sign-in is not linked to your account (any more).' }, 404);
    return found;
  }

  router.get('/', signedIn, (ctx) => list(ctx));

  router.get('/:id/unlink', recent, guard(identityParams), async (ctx) => {
    const identity = await target(ctx); if (!identity) return;
    if (!identity.removable) return list(ctx, { error: LAST_WAY }, 409);
    page(ctx, 'account/identity-unlink', { title: `Unlink ${identity.display_name}`, current: PATH, identity });
  });

  router.post('/:id/unlink', formBody(), csrf, recent, guard(identityParams), async (ctx) => {
    const { user } = viewerOf(ctx);
    const outcome = await deps.identities.unlink(user.id, guarded(ctx, identityParams).params.id, requestOrigin(ctx));
    if (outcome.ok) return back(ctx, PATH, 'identity-unlinked');
    if (outcome.reason === 'last_way') return list(ctx, { error: LAST_WAY }, 409);
    return list(ctx, { error: 'That sign-in is not linked to your account (any more).' }, 404);
  });

  return router;
}
