// Signing in through an upstream provider. The order of routes is the whole flow:
//   GET /providers/:name/start?interaction=<uid>   from an app's sign-in: to the interaction's own start
//   GET /providers/:name/start?mode=link           from /account (signed in): link another sign-in
//   GET /interaction/:uid/upstream/:name           check the app offers it, remember state/nonce/PKCE, go upstream
//   GET /providers/:name/callback                  the upstream's answer, checked by openid-client
//   GET /interaction/:uid/upstream-done            who that is here (src/federation/account-linking.ts),
//                                                  then the second-factor step and back to the app
// The interaction's cookie is scoped to /interaction/<uid>, so the callback hands its result to
// the interaction's own path (bound to the same browser) before anything is written.
import { isSupportAmr } from '../oidc/support-session.ts';
import { AppError } from '../errors/app-error.ts';
import Router from '@koa/router';
import type { Context } from 'koa';
import { requestOrigin } from '../audit/audit.ts';
import type { AccountViewer } from '../accounts/pages/account-sign-in.ts';
import { createSecondFactor } from '../interactions/second-factor.ts';
import { loadInteraction, PROMPTS, withInteractionPage, type Details, type InteractionDeps, type InteractionHandlerDeps } from '../interactions/interaction-deps.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import type { AccountLinking } from './account-linking.ts';
import { toFlowProvider, offeredTo, type FlowProvider } from './flow-provider.ts';
import type { FlowState, StartedFlow } from './flow-state.ts';
import { UpstreamFailure, type UpstreamClient, type UpstreamProfile } from './upstream-client.ts';
import { failurePage, failureView } from './failure-page.ts';
import { pageLanguage } from '../http/locale.ts';
import type { PendingLinks } from './pending-links.ts';
import type { UpstreamLogout } from './upstream-logout.ts';

export interface FederationRouteDeps extends InteractionDeps {
  providers: Pick<ProviderService, 'get'>;
  upstreamClient: UpstreamClient;
  flow: FlowState;
  linking: AccountLinking;
  pendingLinks: PendingLinks;
  upstreamLogout: UpstreamLogout;
  /** the hosted account session (link mode) */
  session: { viewer(ctx: Context): Promise<AccountViewer | undefined>; signIn(ctx: Context, returnTo: string): void };
}

const NAME = /^[a-z0-9-]{2,63}$/;
const UID = /^[A-Za-z0-9_-]{1,64}$/;
/** amr values (RFC 8176) that show a second factor upstream; believed only with trust_mfa */
const MFA_AMR = new Set(['mfa', 'otp', 'hwk', 'swk', 'sms', 'fido']);

/** Whether the upstream says a second factor was used (amr, or an acr that names it). */
export const upstreamUsedMfa = (profile: Pick<UpstreamProfile, 'amr' | 'acr'>) =>
  profile.amr.some((v) => MFA_AMR.has(v)) || /mfa|multi/i.test(profile.acr ?? '');

export function createFederationRouter(input: FederationRouteDeps): Router {
  const deps: FederationRouteDeps & InteractionHandlerDeps = { ...input, ...withInteractionPage(input) };
  const secondFactor = createSecondFactor(deps);
  const router = new Router();
  const see = (ctx: Context, url: string) => { ctx.status = 303; ctx.redirect(url); };
  const noStore = async (ctx: Context, next: () => Promise<unknown>) => { ctx.set('Cache-Control', 'no-store'); await next(); };

  async function providerOr404(ctx: Context, name: string): Promise<FlowProvider | undefined> {
    const config = NAME.test(name) ? await deps.providers.get(name) : undefined;
    if (!config || !config.enabled) {
      failurePage(deps, ctx, { status: 404, title: 'errors:federation.unavailableOption', message: 'errors:federation.unavailableOptionMessage' });
      return undefined;
    }
    return toFlowProvider(config);
  }

  async function fail(ctx: Context, p: { name: string; displayName: string } | undefined, err: unknown, where: { uid?: string; link?: boolean }) {
    const failure = err instanceof UpstreamFailure ? err : new UpstreamFailure('unavailable', String((err as Error)?.message ?? err));
    if (!(err instanceof UpstreamFailure)) deps.log.warn({ event: 'upstream_failed', err }, 'upstream sign-in failed');
    deps.log.info({ event: 'upstream_signin_failed', provider: p?.name, reason: failure.reason, detail: failure.message }, 'upstream sign-in failed');
    await deps.audit.record({ type: 'signin.upstream_failed', ...requestOrigin(ctx), data: { provider: p?.name ?? null, reason: failure.reason, ...(failure.upstreamError ? { error: failure.upstreamError } : {}) } });
    failurePage(deps, ctx, {
      ...failureView(failure.reason, p?.displayName),
      tryAnother: where.link ? '/account' : where.uid ? `/interaction/${where.uid}?choose=1` : undefined,
      startAgain: p && !['disabled', 'provider_disabled', 'email_not_trusted', 'domain_not_allowed', 'signup_not_allowed', 'tenant_not_allowed', 'hosted_domain', 'no_verified_email'].includes(failure.reason)
        ? (where.link ? `/providers/${p.name}/start?mode=link` : where.uid ? `/interaction/${where.uid}/upstream/${p.name}` : undefined) : undefined,
      // the user said no upstream: they may rather tell the app (access_denied), as the spec has it
      abortUrl: failure.reason === 'cancelled' && where.uid ? `/interaction/${where.uid}/abort` : undefined,
    });
  }

  async function goUpstream(ctx: Context, p: FlowProvider, flow: Omit<StartedFlow, 'binding' | 'state' | 'nonce' | 'codeVerifier' | 'provider'>, where: { uid?: string; link?: boolean }) {
    try {
      const start = await deps.upstreamClient.start(p);
      await deps.flow.begin(ctx, { ...flow, provider: p.name, state: start.state, nonce: start.nonce, codeVerifier: start.codeVerifier });
      see(ctx, start.url);
    } catch (err) {
      await fail(ctx, p, err, where);
    }
  }

  router.get('/providers/:name/start', noStore, async (ctx) => {
    const { name } = ctx.params as { name: string };
    if (ctx.query.mode === 'link') {
      const viewer = await deps.session.viewer(ctx);
      if (!viewer) return deps.session.signIn(ctx, ctx.originalUrl);
      // linking adds a way to sign in: the owner's own session only, never a support session
      if (isSupportAmr(viewer.amr)) throw new AppError(403, 'support_session', 'errors:message.supportSession');
      const p = await providerOr404(ctx, name); if (!p) return;
      return goUpstream(ctx, p, { mode: 'link', userId: viewer.user.id }, { link: true });
    }
    const uid = typeof ctx.query.interaction === 'string' ? ctx.query.interaction : '';
    if (!UID.test(uid)) return failurePage(deps, ctx, { status: 400, title: 'errors:federation.startFromApp', message: 'errors:federation.startFromAppMessage' });
    see(ctx, `/interaction/${uid}/upstream/${encodeURIComponent(name)}`);
  });

  router.get('/interaction/:uid/upstream/:name', noStore, async (ctx) => {
    const { name } = ctx.params as { name: string };
    const details = await loadInteraction(deps, ctx, PROMPTS.login);
    const p = await providerOr404(ctx, name); if (!p) return;
    if (!offeredTo(p, String(details.params.client_id ?? ''))) {
      return failurePage(deps, ctx, { status: 404, title: 'errors:federation.unavailableOption', message: 'errors:federation.notOffered', vars: { provider: p.displayName }, tryAnother: `/interaction/${details.uid}?choose=1` });
    }
    await goUpstream(ctx, p, { mode: 'signin', uid: details.uid }, { uid: details.uid });
  });

  router.get('/providers/:name/callback', noStore, async (ctx) => {
    const { name } = ctx.params as { name: string };
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const { flow, foreign } = await deps.flow.take(ctx, state);
    const config = NAME.test(name) ? await deps.providers.get(name) : undefined;
    const p = config ? toFlowProvider(config) : undefined;
    if (!flow || foreign || flow.provider !== name || !p) {
      // unknown, used or expired state, or a state another browser started: nothing is trusted from the query
      const reason = foreign || (flow && flow.provider !== name) ? 'state_mismatch' : 'expired';
      return fail(ctx, p, new UpstreamFailure(reason, 'no matching sign-in in this browser'), {});
    }
    const where = flow.mode === 'link' ? { link: true } : { uid: flow.uid };
    if (!config!.enabled) return fail(ctx, p, new UpstreamFailure('provider_disabled', 'provider disabled'), where);
    let profile: UpstreamProfile;
    try {
      profile = await deps.upstreamClient.finish(p, new URL(ctx.originalUrl, deps.config.issuer), flow);
    } catch (err) {
      return fail(ctx, p, err, where);
    }
    if (flow.mode === 'link') {
      const viewer = await deps.session.viewer(ctx);
      if (viewer && isSupportAmr(viewer.amr)) throw new AppError(403, 'support_session', 'errors:message.supportSession');
      if (!viewer || viewer.user.id !== flow.userId) return fail(ctx, p, new UpstreamFailure('expired', 'the account session ended'), where);
      const outcome = await deps.linking.linkProven(p, profile, viewer.user.id, requestOrigin(ctx), 'account');
      if (outcome === 'taken') {
        return failurePage(deps, ctx, { status: 409, title: 'errors:federation.alreadyLinked', message: 'errors:federation.alreadyLinkedMessage', vars: { provider: p.displayName }, tryAnother: '/account' });
      }
      if (outcome === 'refused') return fail(ctx, p, new UpstreamFailure('disabled', 'account may not be linked'), where);
      return see(ctx, `/account?linked=${encodeURIComponent(p.name)}`);
    }
    await deps.flow.hold(flow.uid!, { provider: p.name, binding: deps.flow.bindingHash(ctx), profile });
    see(ctx, `/interaction/${flow.uid}/upstream-done`);
  });

  router.get('/interaction/:uid/upstream-done', noStore, async (ctx) => {
    let details: Details;
    try {
      details = await loadInteraction(deps, ctx, PROMPTS.login);
    } catch (err) {
      if ((err as { status?: number }).status && (err as { status?: number }).status! >= 500) throw err;
      return fail(ctx, undefined, new UpstreamFailure('expired', 'interaction gone'), {});
    }
    const returned = await deps.flow.claim(ctx, details.uid);
    const config = returned ? await deps.providers.get(returned.provider) : undefined;
    if (!returned || !config) return fail(ctx, undefined, new UpstreamFailure('expired', 'nothing returned for this interaction'), { uid: details.uid });
    const p = toFlowProvider(config);
    const where = { uid: details.uid };
    // switched off while the user was upstream (perhaps because it was compromised): no sign-in through it
    if (!config.enabled) return fail(ctx, p, new UpstreamFailure('provider_disabled', 'provider disabled'), where);
    try {
      const resolution = await deps.linking.resolve(p, returned.profile, requestOrigin(ctx));
      if (resolution.kind === 'unverified_account') {
        await deps.audit.record({ type: 'signin.upstream_failed', ...requestOrigin(ctx), data: { provider: p.name, reason: 'unverified_account' } });
        return deps.page(ctx, 'federation/account-exists', {
          title: deps.views.i18n.translator(pageLanguage(ctx))('signin:federation.accountExistsTitle'), provider: p.displayName, email: returned.profile.email,
          tryAnother: `/interaction/${details.uid}?choose=1`,
        }, 409);
      }
      if (resolution.kind === 'prove') {
        await deps.pendingLinks.put(details.uid, { provider: p.name, profile: returned.profile, targetUserId: resolution.user.id });
        return see(ctx, `/interaction/${details.uid}?choose=1`);
      }
      const mfa = p.trustMfa && upstreamUsedMfa(returned.profile);
      await deps.upstreamLogout.remember(ctx, p, returned.profile.idToken);
      await secondFactor.afterPrimary(ctx, details, resolution.user, ['fed'], { provider: p.name, mfa });
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) throw err;
      return fail(ctx, p, err, where);
    }
  });

  router.use(deps.upstreamLogout.router().routes());
  return router;
}
