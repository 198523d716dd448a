// The account API: GET /api/me (scope openid), PATCH /api/me (scope profile:write, partial, validated).
import Router from '@koa/router';
import { z } from 'zod';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { AccountCache } from './account-cache.ts';
import { INVALID_PROFILE, profilePatch, type ProfileService } from './profile.service.ts';
import { auth, requireToken } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { guard, guarded, parseOr400 } from '../http/guard.ts';
import { badRequest } from '../errors/app-error.ts';
import type { UserRow } from './account.repo.ts';
import { requestOrigin } from '../audit/audit.ts';

/** Changing the profile is its own scope: `profile` only reads (the consent page says so). */
export const PROFILE_WRITE_SCOPE = 'profile:write';

export function meView(u: UserRow) {
  return {
    sub: u.id, email: u.email, email_verified: u.email_verified, name: u.name, given_name: u.given_name,
    family_name: u.family_name, picture: u.picture, locale: u.locale, roles: u.roles,
    created_at: new Date(u.created_at).toISOString(), updated_at: new Date(u.updated_at).toISOString(),
  };
}

const READ_ONLY: Record<string, string> = {
  sub: 'sub never changes.',
  email: 'email is changed through the account pages, which verify the new address first.',
  email_verified: 'email_verified is set by verifying the address.',
  roles: 'roles are managed by administrators.',
  created_at: 'created_at is read-only.',
  updated_at: 'updated_at is read-only.',
  password: 'the password is changed through the account pages.',
};

/** PATCH /api/me: a JSON object; its fields follow the profile's rules (read-only ones are named first). */
const patchBody = z.record(z.string(), z.unknown(), { error: 'Send a JSON object with the fields to change.' });

export interface MeApiDeps { oidc: ProviderFacade; accountCache: AccountCache; profile: ProfileService }

export function createMeRouter(deps: MeApiDeps): Router {
  const router = new Router();
  const tokenDeps = { oidc: deps.oidc, accounts: deps.accountCache };
  router.get('/me', requireToken(tokenDeps, 'openid'), (ctx) => {
    ctx.body = meView(auth<UserRow>(ctx).user);
  });
  const edge = { body: patchBody };
  router.patch('/me', requireToken(tokenDeps, PROFILE_WRITE_SCOPE), jsonBody(), guard(edge), async (ctx) => {
    const { body } = guarded(ctx, edge);
    const readOnly = Object.keys(body).find((k) => k in READ_ONLY);
    if (readOnly) throw badRequest(READ_ONLY[readOnly]!, 'read_only_field');
    const patch = parseOr400(profilePatch, body, 'body', INVALID_PROFILE);
    const a = auth(ctx);
    const updated = await deps.profile.update(a.accountId, patch, { actorId: a.act?.sub ?? a.accountId, clientId: a.clientId, ...requestOrigin(ctx) });
    ctx.body = meView(updated);
  });
  return router;
}
