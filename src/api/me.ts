// The account API: GET /api/me (scope openid), PATCH /api/me (scope profile, partial, validated).
import Router from '@koa/router';
import { z } from 'zod';
import type { ApiDeps } from './context.ts';
import { auth, requireToken } from './auth.ts';
import { jsonBody } from '../http/body.ts';
import { badRequest } from '../http/errors.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { requestOrigin } from '../audit/audit.ts';

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

const text = (max: number) => z.string().trim().max(max).transform((v) => v || null).nullable();
export const profilePatch = z.object({
  name: text(200),
  given_name: text(100),
  family_name: text(100),
  picture: z.url({ protocol: /^https$/, message: 'picture must be an https URL' }).max(2048).nullable(),
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag such as en or pt-BR').nullable(),
}).partial().strict();

export function createMeRouter(deps: ApiDeps): Router {
  const router = new Router();
  const { accounts, knex } = deps.container;
  router.get('/me', requireToken({ provider: deps.provider, accounts }, 'openid'), (ctx) => {
    ctx.body = meView(auth(ctx).user);
  });
  router.patch('/me', requireToken({ provider: deps.provider, accounts }, 'openid', 'profile'), jsonBody(), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Send a JSON object with the fields to change.');
    const readOnly = Object.keys(body).find((k) => k in READ_ONLY);
    if (readOnly) throw badRequest(READ_ONLY[readOnly]!, 'read_only_field');
    const parsed = profilePatch.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : `${issue.path.join('.')}: ${issue.message}`;
      throw badRequest(message, 'invalid_profile');
    }
    const a = auth(ctx);
    const updated = await knex.transaction(async (trx) => {
      const [row] = await trx('users').where({ id: a.accountId }).update({ ...parsed.data, updated_at: trx.fn.now() }).returning('*');
      await deps.audit.record({ type: 'profile.updated', actorId: a.act?.sub ?? a.accountId, subjectId: a.accountId, clientId: a.clientId, ...requestOrigin(ctx), data: { fields: Object.keys(parsed.data) } }, trx);
      return row as UserRow;
    });
    ctx.body = meView(updated);
  });
  return router;
}
