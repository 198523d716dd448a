// The account API: GET /api/me (scope openid), PATCH /api/me (scope profile:write, partial, validated).
import Router from '@koa/router';
import type { Knex } from 'knex';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { Audit } from '../audit/audit.ts';
import type { AccountCache } from './account-cache.ts';
import { parseProfilePatch, updateProfile } from './profile.service.ts';
import { auth, requireToken } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
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


export interface MeApiDeps { oidc: ProviderFacade; accountCache: AccountCache; knex: Knex; audit: Audit }

export function createMeRouter(deps: MeApiDeps): Router {
  const router = new Router();
  const { knex } = deps;
  const tokenDeps = { oidc: deps.oidc, accounts: deps.accountCache };
  router.get('/me', requireToken(tokenDeps, 'openid'), (ctx) => {
    ctx.body = meView(auth<UserRow>(ctx).user);
  });
  router.patch('/me', requireToken(tokenDeps, PROFILE_WRITE_SCOPE), jsonBody(), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Send a JSON object with the fields to change.');
    const readOnly = Object.keys(body).find((k) => k in READ_ONLY);
    if (readOnly) throw badRequest(READ_ONLY[readOnly]!, 'read_only_field');
    const patch = parseProfilePatch(body);
    const a = auth(ctx);
    const updated = await updateProfile(knex, deps.audit, a.accountId, patch, { actorId: a.act?.sub ?? a.accountId, clientId: a.clientId, ...requestOrigin(ctx) });
    ctx.body = meView(updated);
  });
  return router;
}
