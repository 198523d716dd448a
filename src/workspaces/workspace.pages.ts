// Hosted invitation pages, authenticated by the provider's session cookie (src/oidc/facade.ts)
// (/account/workspaces, the owners' pages and the switcher: workspace-manage.pages.ts):
//   GET  /invitations/accept?token=…   the mailed link: the token moves into a cookie, then
//   GET  /invitations/accept           accept, or sign in / sign up on the way
//   POST /invitations/accept           accept as the signed-in account (the invited address only)
//   GET  /invitations/signin           sign in through the hosted sign-in, then back to accept
//   POST /invitations/signup           create the account (verified by the mailed link), then accept
// The token is in the mailed link's query string once (src/security/link-secret.ts), then in a
// cookie and form bodies; never in a path or a later URL: a logged token, or one left in browser
// history, would let its reader sign up as the invitee.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { Config } from '../config/index.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { WorkspaceService } from './workspace.service.ts';
import type { InvitationService } from './invitation.service.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import type { Views } from '../render/views.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { requestOrigin } from '../audit/audit.ts';
import { AppError } from '../errors/app-error.ts';
import { formBody } from '../http/body.ts';
import { requireCsrf } from '../security/csrf.ts';
import { guard, guarded } from '../http/guard.ts';
import { pageLanguage } from '../http/locale.ts';
import { createPageRenderer } from '../http/page.ts';
import { SIGNUP_LIMITS, recordFailure, retryAfter, type LimiterFactory } from '../security/rate-limit.ts';
import { linkSecret } from '../security/link-secret.ts';
import type { InvitationView } from './invitation.service.ts';
import type { WorkspaceView } from './workspace.service.ts';

export interface WorkspacePagesDeps {
  oidc: ProviderFacade;
  config: Config;
  accounts: AccountService;
  workspaces: WorkspaceService;
  invitations: InvitationService;
  views: Views;
  limiters: LimiterFactory;
  log: Logger;
  /** Sends the browser through the hosted sign-in (password, second factor…) and back to `returnTo`. */
  signIn: (ctx: Context, returnTo: string) => void;
}

type InvitationState = 'accept' | 'signin' | 'signup' | 'closed' | 'joined';

/** Long enough to sign in or sign up on the way; the link stays valid, and opening it again keeps it again. */
const INVITATION_COOKIE_SECONDS = 3600;

const tokenBody = z.object({ token: z.string().max(200).default('') });
const signupBody = tokenBody.extend({ name: z.string().trim().max(200).default(''), password: z.string().max(1024).default('') });

export function createWorkspacePagesRouter(deps: WorkspacePagesDeps): Router {
  const { accounts, invitations, config } = deps;
  const router = new Router();
  const post = [formBody(), requireCsrf(new URL(config.issuer).origin)];
  const secure = config.issuer.startsWith('https:');
  const limits = { signup: deps.limiters(SIGNUP_LIMITS.ip) };
  const invitationLink = linkSecret({ cookie: 'gh_invitation', path: '/invitations', page: '/invitations/accept', maxAgeSeconds: INVITATION_COOKIE_SECONDS, secure });

  const render = createPageRenderer({ views: deps.views, secure });

  async function signedIn(ctx: Context): Promise<UserRow | undefined> {
    const id = await deps.oidc.signedInAccountId(ctx);
    return id ? accounts.findActive(id) : undefined;
  }

  // ── invitations ──────────────────────────────────────────────────────────────────────────────

  function showInvitation(ctx: Context, state: InvitationState, token: string, o: { invitation: InvitationView; workspace: WorkspaceView },
    extra: { error?: string; signedInAs?: string; name?: string } = {}, status = 200) {
    const action = { accept: '/invitations/accept', signin: '/invitations/signin', signup: '/invitations/signup', closed: '', joined: '' }[state];
    const t = deps.views.i18n.translator(pageLanguage(ctx));
    render(ctx, 'invitation', {
      title: state === 'joined' ? t('signin:invitation.joinedHeading', { workspace: o.workspace.name }) : t('signin:invitation.joinHeading', { workspace: o.workspace.name }),
      state, token, action, workspaceName: o.workspace.name, role: o.invitation.role, email: o.invitation.email, name: extra.name ?? '', ...extra,
    }, status);
  }

  /** What the invitee should do next: accept as who they are, or sign in / sign up as the invited address. */
  async function nextStep(ctx: Context, token: string, extra: { error?: string; name?: string } = {}, status = 200) {
    const o = await invitations.open(token); // 404 / 410 render as the error page
    const user = await signedIn(ctx);
    const matches = user && normalizeEmail(user.email) === normalizeEmail(o.invitation.email);
    // GATEHOUSE_SIGNUP=closed: nobody makes an account here, an invitation included (an invited
    // address that already has one still joins)
    const state: InvitationState = matches ? 'accept' : o.accountExists ? 'signin' : config.signup === 'closed' ? 'closed' : 'signup';
    showInvitation(ctx, state, token, o, { ...extra, signedInAs: matches ? undefined : user?.email }, status);
  }

  async function joined(ctx: Context, token: string, workspace: WorkspaceView) {
    const o = { workspace, invitation: { role: workspace.role } as InvitationView };
    invitationLink.clear(ctx);
    showInvitation(ctx, 'joined', token, o);
  }

  router.get('/invitations/accept', async (ctx) => {
    const landing = invitationLink.landing(ctx);
    if (landing !== undefined) return invitationLink.keepAndRedirect(ctx, landing);
    await nextStep(ctx, invitationLink.read(ctx));
  });

  router.post('/invitations/accept', ...post, guard({ body: tokenBody }), async (ctx) => {
    const { token } = guarded(ctx, { body: tokenBody }).body;
    const user = await signedIn(ctx);
    if (!user) return nextStep(ctx, token, { error: deps.views.i18n.translator(pageLanguage(ctx))('signin:invitation.sessionEnded') }, 401);
    try {
      const workspace = await invitations.accept(token, user, { actorId: user.id, clientId: null, ...requestOrigin(ctx) });
      await joined(ctx, token, workspace);
    } catch (e) {
      if (e instanceof AppError && e.code === 'invitation_email_mismatch') return nextStep(ctx, token, { error: e.message }, 403);
      throw e;
    }
  });

  // an existing account signs in the usual way (with its second factor), then comes back to accept
  router.get('/invitations/signin', async (ctx) => {
    await invitations.open(invitationLink.read(ctx)); // an unknown or spent invitation shows its error page here
    deps.signIn(ctx, '/invitations/accept'); // the cookie still holds the token when the browser comes back
  });

  router.post('/invitations/signup', ...post, guard({ body: signupBody }), async (ctx) => {
    const { token, name, password } = guarded(ctx, { body: signupBody }).body;
    if (config.signup === 'closed') return nextStep(ctx, token, { name }, 403);
    const ip = ctx.ip || 'unknown';
    const wait = await retryAfter([[limits.signup, ip]]);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return nextStep(ctx, token, { name, error: deps.views.i18n.translator(pageLanguage(ctx))('signin:invitation.tooMany') }, 429);
    }
    await recordFailure([[limits.signup, ip]]); // every sign-up counts toward the per-IP budget
    try {
      const { user, workspace } = await invitations.acceptAsNewAccount(token, { name, password });
      deps.log.info({ event: 'signup', sub: user.id, via: 'invitation' }, 'account created');
      await joined(ctx, token, workspace);
    } catch (e) {
      if (e instanceof AppError && (e.status === 400 || e.code === 'email_taken')) return nextStep(ctx, token, { name, error: e.message }, e.status);
      throw e;
    }
  });

  return router;
}
