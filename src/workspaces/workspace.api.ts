// The workspace API, beside the account API under /api (DESIGN.md). The caller is a user: a bearer
// access token, or the hosted session (then a state-changing call must come from the issuer's own
// origin). A token needs `workspace` to read and to switch the active workspace, and
// `workspace:manage` to create, rename or delete workspaces, members and invitations [manage below].
// Every call is then authorised by the caller's role in the workspace it names, in the services.
//   GET    /api/workspaces                              my workspaces (role, active)
//   POST   /api/workspaces                              create {slug, name}; the caller is owner  [manage]
//   GET    /api/workspaces/:ref                         one workspace (members)
//   PATCH  /api/workspaces/:ref                         rename {name} (owner)  [manage]
//   DELETE /api/workspaces/:ref                         delete (owner)  [manage]
//   GET    /api/workspaces/:ref/members                 members (members)
//   PATCH  /api/workspaces/:ref/members/:user_id        change a role {role}  [manage]
//   DELETE /api/workspaces/:ref/members/:user_id        remove a member, or leave  [manage]
//   GET    /api/workspaces/:ref/invitations             open invitations (owner, admin)
//   POST   /api/workspaces/:ref/invitations             invite {email, role} (owner, admin)  [manage]
//   DELETE /api/workspaces/:ref/invitations/:id         revoke (owner, admin)  [manage]
//   POST   /api/invitations/accept                      accept {token} as the caller (invited address only)  [manage]
//   GET    /api/me/active-workspace                     {active_workspace}
//   POST   /api/me/active-workspace                     switch {workspace_id} (an id or a slug)
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { Config } from '../config/index.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { LimiterFactory } from '../security/rate-limit.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountCache } from '../accounts/account-cache.ts';
import type { WorkspaceService } from './workspace.service.ts';
import type { InvitationService } from './invitation.service.ts';
import { auth, requireToken } from '../api/bearer-auth.ts';
import { addPaths } from '../api/openapi.ts';
import { requestOrigin } from '../audit/audit.ts';
import { jsonBody } from '../http/body.ts';
import { AppError } from '../errors/app-error.ts';
import { parseOr400 } from '../http/guard.ts';
import type { Caller } from './workspace.service.ts';
import type { InvitationNotice } from './invitation.service.ts';
import { INVITATION_TTL_SECONDS } from './invitation.service.ts';
import {
  acceptInvitationInput, activeWorkspaceInput, changeRoleInput, createWorkspaceInput, inviteInput, renameWorkspaceInput,
} from './workspace.schema.ts';
import { WORKSPACE_OPENAPI_PATHS } from './workspace.openapi.ts';
import { INVITE_LIMITS, recordFailure } from '../security/rate-limit.ts';

export const WORKSPACE_SCOPE = 'workspace';
export const WORKSPACE_MANAGE_SCOPE = 'workspace:manage';

const callers = new WeakMap<Context, Caller>();

function caller(ctx: Context): Caller {
  const c = callers.get(ctx);
  if (!c) throw new AppError(401, 'invalid_token', 'Not authenticated.');
  return c;
}

/** The JSON body, parsed at the edge; a refusal names the first problem with the route's error code. */
const body = <T extends z.ZodType>(ctx: Context, schema: T, code: string): z.output<T> => parseOr400(schema, ctx.request.body, 'body', code);

/** The invitation mail: the link carries the token in its query string (never logged). */
export interface WorkspaceApiDeps {
  oidc: ProviderFacade;
  config: Config;
  accounts: AccountService;
  accountCache: AccountCache;
  workspaces: WorkspaceService;
  invitations: InvitationService;
  mailer: Mailer;
  limiters: LimiterFactory;
  log: Logger;
}

function invitationMailer(deps: WorkspaceApiDeps) {
  const { issuer } = deps.config;
  return (n: InvitationNotice) => {
    const inviter = n.inviter?.name || n.inviter?.email || undefined;
    return deps.mailer.send({
      to: n.to,
      template: 'invitation', // in the inviting request's language (the invitee may have no account yet)
      data: {
        inviter, context: inviter ? undefined : 'anonymous', workspaceName: n.workspace.name, role: n.role, days: INVITATION_TTL_SECONDS / 86400,
        url: `${issuer}/invitations/accept?token=${encodeURIComponent(n.token)}`,
      },
    });
  };
}

export function createWorkspaceApiRouter(deps: WorkspaceApiDeps): Router {
  const { accounts, workspaces, invitations, config } = deps;
  const issuerOrigin = new URL(config.issuer).origin;
  const tokenDeps = { oidc: deps.oidc, accounts: deps.accountCache };
  const notify = invitationMailer(deps);
  const inviteLimit = deps.limiters(INVITE_LIMITS.inviter);
  addPaths(WORKSPACE_OPENAPI_PATHS);

  /** Bearer token with `scope`, or else the hosted session. */
  const authenticateWith = (scope: string) => {
    const bearer = requireToken(tokenDeps, scope);
    return (ctx: Context, next: Next) => authenticate(ctx, next, bearer, scope);
  };
  async function authenticate(ctx: Context, next: Next, bearer: ReturnType<typeof requireToken>, scope: string) {
    if (ctx.get('authorization')) {
      return bearer(ctx, async () => {
        const a = auth(ctx);
        callers.set(ctx, { userId: a.accountId, actorId: a.act?.sub ?? a.accountId, clientId: a.clientId, ...requestOrigin(ctx) });
        await next();
      });
    }
    const accountId = await deps.oidc.signedInAccountId(ctx);
    const user = accountId ? await accounts.findActive(accountId) : undefined;
    if (!user) {
      ctx.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
      throw new AppError(401, 'invalid_token', `Send an access token with the ${scope} scope (Authorization: Bearer <token>), or sign in.`);
    }
    // A cookie rides along on cross-site requests; a state change by session must come from our own pages.
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method) && ctx.get('origin') !== issuerOrigin) {
      throw new AppError(403, 'csrf', 'A change made with the hosted session must come from this server\'s own pages.');
    }
    callers.set(ctx, { userId: user.id, actorId: user.id, clientId: null, ...requestOrigin(ctx) });
    await next();
  }

  const read = authenticateWith(WORKSPACE_SCOPE);
  const manage = authenticateWith(WORKSPACE_MANAGE_SCOPE);
  const router = new Router();
  const json = jsonBody();

  router.get('/workspaces', read, async (ctx) => {
    ctx.body = { workspaces: await workspaces.listMine(caller(ctx).userId) };
  });
  router.post('/workspaces', manage, json, async (ctx) => {
    const input = body(ctx, createWorkspaceInput, 'invalid_workspace');
    const c = caller(ctx);
    ctx.status = 201;
    ctx.body = await workspaces.create(input, c.userId, c);
  });
  router.get('/workspaces/:ref', read, async (ctx) => {
    ctx.body = await workspaces.get(ctx.params.ref, caller(ctx));
  });
  router.patch('/workspaces/:ref', manage, json, async (ctx) => {
    const { name } = body(ctx, renameWorkspaceInput, 'invalid_workspace');
    ctx.body = await workspaces.rename(ctx.params.ref, name, caller(ctx));
  });
  router.delete('/workspaces/:ref', manage, async (ctx) => {
    ctx.body = await workspaces.remove(ctx.params.ref, caller(ctx));
  });

  router.get('/workspaces/:ref/members', read, async (ctx) => {
    ctx.body = { members: await workspaces.members(ctx.params.ref, caller(ctx)) };
  });
  router.patch('/workspaces/:ref/members/:userId', manage, json, async (ctx) => {
    const { role } = body(ctx, changeRoleInput, 'invalid_role');
    ctx.body = await workspaces.changeRole(ctx.params.ref, ctx.params.userId, role, caller(ctx));
  });
  router.delete('/workspaces/:ref/members/:userId', manage, async (ctx) => {
    ctx.body = await workspaces.removeMember(ctx.params.ref, ctx.params.userId, caller(ctx));
  });

  router.get('/workspaces/:ref/invitations', read, async (ctx) => {
    ctx.body = { invitations: await invitations.list(ctx.params.ref, caller(ctx)) };
  });
  router.post('/workspaces/:ref/invitations', manage, json, async (ctx) => {
    const input = body(ctx, inviteInput, 'invalid_invitation');
    // every invitation counts (each may send a mail), the inviter's and the refused ones alike
    const wait = await recordFailure([[inviteLimit, caller(ctx).userId]]);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      throw new AppError(429, 'too_many_invitations', `You have sent ${INVITE_LIMITS.inviter.points} invitations in the last hour. Try again in ${Math.ceil(wait / 60)} minutes.`);
    }
    ctx.status = 201;
    ctx.body = await invitations.invite(ctx.params.ref, input, caller(ctx), notify);
  });
  router.delete('/workspaces/:ref/invitations/:id', manage, async (ctx) => {
    ctx.body = await invitations.revoke(ctx.params.ref, ctx.params.id, caller(ctx));
  });
  router.post('/invitations/accept', manage, json, async (ctx) => {
    const { token } = body(ctx, acceptInvitationInput, 'invalid_invitation');
    const c = caller(ctx);
    const user = (await accounts.findActive(c.userId))!;
    ctx.body = { ok: true, workspace: await invitations.accept(token, user, c) };
  });

  router.get('/me/active-workspace', read, async (ctx) => {
    const active = (await workspaces.listMine(caller(ctx).userId)).find((w) => w.active);
    ctx.body = { active_workspace: active?.id ?? null, workspace: active ?? null };
  });
  router.post('/me/active-workspace', read, json, async (ctx) => {
    const { workspace_id: ref } = body(ctx, activeWorkspaceInput, 'invalid_workspace');
    const c = caller(ctx);
    const ws = await workspaces.setActive(c.userId, ref, c);
    ctx.body = { ok: true, active_workspace: ws.id };
  });
  return router;
}
