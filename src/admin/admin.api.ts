// The admin API under /api/admin: users, clients, keys, sessions, audit, impersonation. Every
// input validated at the edge; every change audited in the same transaction where the change is
// ours to make (the clients and keys services commit on their own and are audited right after).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { Audit } from '../audit/audit.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountCache } from '../accounts/account-cache.ts';
import type { ClientService } from '../clients/client.service.ts';
import type { KeyService } from '../keys/key.service.ts';
import { auth } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { badRequest, notFound } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { userView } from '../accounts/account.service.ts';
import type { Mfa } from '../mfa/index.ts';
import type { Impersonation } from './impersonation.ts';
import { requireAdmin } from './require-admin.ts';
import { ADMIN_PATHS } from './admin.openapi.ts';
import { addPaths } from '../api/openapi.ts';
import type { AdminService } from './admin.service.ts';
import { SIGNING_ALGS } from '../keys/key.service.ts';
import { MAX_KEY_ACTIVATION_DELAY_SECONDS } from '../config/index.ts';

const page = z.object({
  limit: z.coerce.number().int().min(1, 'limit must be 1 to 100').max(100, 'limit must be 1 to 100').default(20),
  offset: z.coerce.number().int().min(0, 'offset must be 0 or more').max(1_000_000).default(0),
});
const userQuery = page.extend({ query: z.string().trim().max(200).optional() });
const auditQuery = page.extend({
  actor: z.string().max(200).optional(), subject: z.string().max(200).optional(), type: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true, message: 'since must be an ISO 8601 date-time' }).optional(),
  until: z.iso.datetime({ offset: true, message: 'until must be an ISO 8601 date-time' }).optional(),
});
const newUser = z.object({
  email: z.string().max(320), password: z.string().max(1024).optional(), name: z.string().max(200).optional(),
  admin: z.boolean().default(false), email_verified: z.boolean().default(false),
}).strict();
const keyRotation = z.object({
  alg: z.enum(SIGNING_ALGS, { message: `alg must be one of ${SIGNING_ALGS.join(', ')}` }).optional(),
  /** seconds until the new keys sign: 0 at once (a compromised key); default GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS */
  activate_in: z.number().int().min(0).max(MAX_KEY_ACTIVATION_DELAY_SECONDS).optional(),
}).strict();
const userPatch = z.object({
  name: z.string().trim().max(200).nullable(), roles: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'roles are lower-case words')).max(20),
  mfa_required: z.boolean(), email_verified: z.boolean(),
}).partial().strict();

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : `${issue.path.join('.') || 'body'}: ${issue.message}`;
    throw badRequest(message, 'invalid_request');
  }
  return r.data;
}

export interface AdminDeps {
  oidc: ProviderFacade;
  knex: Knex;
  accounts: AccountService;
  accountCache: AccountCache;
  clients: ClientService;
  keys: KeyService;
  adapters: AdapterFactory;
  audit: Audit;
  log: Logger;
  mfa: Mfa; impersonation: Impersonation; admin: AdminService;
  /** re-reads the signing keys on this node (the host's refresh) */
  keysChanged: () => Promise<unknown>;
}

export function createAdminApiRouter(deps: AdminDeps): Router {
  addPaths(ADMIN_PATHS);
  const router = new Router({ prefix: '/admin' });
  const { knex, accounts, clients, keys, adapters, audit } = deps;
  router.use(requireAdmin({ oidc: deps.oidc, accounts: deps.accountCache }));

  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, clientId: auth(ctx).clientId, ...requestOrigin(ctx) });
  const admin = deps.admin;
  const user = (id: string) => admin.user(id);

  // --- users
  router.get('/users', async (ctx) => {
    const q = parse(userQuery, ctx.query);
    const { total, users } = await admin.searchUsers(q);
    ctx.body = { total, limit: q.limit, offset: q.offset, users: users.map(userView) };
  });
  router.post('/users', jsonBody(), async (ctx) => {
    const b = parse(newUser, ctx.request.body);
    const created = await knex.transaction(async (trx) => {
      const u = await accounts.create({ email: b.email, password: b.password, name: b.name, roles: b.admin ? ['admin'] : [], emailVerified: b.email_verified }, trx);
      await audit.record({ type: 'user.created', subjectId: u.id, ...origin(ctx), data: { admin: b.admin } }, trx);
      return u;
    });
    ctx.status = 201;
    ctx.body = userView(created);
  });
  router.get('/users/:id', async (ctx) => {
    const u = await user(ctx.params.id!);
    ctx.body = { ...userView(u), mfa_required: u.mfa_required, factors: await deps.mfa.factors(u.id) };
  });
  router.patch('/users/:id', jsonBody(), async (ctx) => {
    const p = parse(userPatch, ctx.request.body);
    if (Object.keys(p).length === 0) throw badRequest('Send at least one field to change.');
    if (p.roles && ctx.params.id === auth(ctx).accountId && !p.roles.includes('admin')) throw badRequest('You cannot remove your own admin role.', 'self_demotion');
    ctx.body = userView(await admin.change(ctx.params.id!, 'user.updated', p as Partial<UserRow>, origin(ctx), { fields: Object.keys(p) }));
  });
  router.post('/users/:id/disable', async (ctx) => { ctx.body = userView(await admin.disable(ctx.params.id!, origin(ctx))); });
  router.post('/users/:id/enable', async (ctx) => { ctx.body = userView(await admin.enable(ctx.params.id!, origin(ctx))); });
  router.delete('/users/:id', async (ctx) => { await admin.remove(ctx.params.id!, origin(ctx)); ctx.status = 204; });
  router.post('/users/:id/reset-mfa', async (ctx) => {
    await admin.resetMfa(ctx.params.id!, origin(ctx));
    ctx.body = { ok: true, factors: await deps.mfa.factors(ctx.params.id!) };
  });
  router.post('/users/:id/revoke-sessions', async (ctx) => { await admin.revokeSessions(ctx.params.id!, origin(ctx)); ctx.body = { ok: true }; });
  router.get('/users/:id/sessions', async (ctx) => {
    const id = (await user(ctx.params.id!)).id;
    const live = new Set((await adapters.listAccount(id, 'Session')).map((s) => s.payload.uid as string));
    const rows = await knex('account_sessions').where({ user_id: id }).whereNull('ended_at').orderBy('last_seen_at', 'desc');
    ctx.body = rows.filter((r) => live.has(r.uid)).map((r) => ({ uid: r.uid, ip: r.ip, user_agent: r.user_agent, created_at: r.created_at, last_seen_at: r.last_seen_at }));
  });
  router.delete('/users/:id/sessions/:uid', async (ctx) => {
    const id = (await user(ctx.params.id!)).id;
    const session = await deps.oidc.sessionByUid(ctx.params.uid!);
    if (!session || session.accountId !== id) throw notFound('no such session');
    await session.destroy();
    await knex('account_sessions').where({ uid: ctx.params.uid }).update({ ended_at: knex.fn.now() });
    await audit.record({ type: 'session.revoked', subjectId: id, ...origin(ctx) });
    ctx.status = 204;
  });
  router.post('/users/:id/token', jsonBody(), async (ctx) => {
    const a = auth(ctx);
    const body = (ctx.request.body ?? {}) as { reason?: unknown };
    ctx.body = await deps.impersonation.mint({ adminId: a.accountId, targetId: ctx.params.id!, clientId: a.clientId, reason: body.reason, origin: requestOrigin(ctx) });
  });

  // --- clients
  router.get('/clients', async (ctx) => { ctx.body = await clients.list(); });
  router.post('/clients', jsonBody(), async (ctx) => {
    const created = await clients.create(ctx.request.body as never);
    await audit.record({ type: 'client.created', ...origin(ctx), clientId: created.client_id, data: { name: created.client_name } });
    ctx.status = 201;
    ctx.body = created;
  });
  router.get('/clients/:id', async (ctx) => { ctx.body = await clients.show(ctx.params.id!); });
  router.patch('/clients/:id', jsonBody(), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    if ('client_id' in body || 'client_secret' in body) throw badRequest('client_id and client_secret cannot be changed here (see rotate-secret).');
    const updated = await clients.update(ctx.params.id!, body as never);
    await audit.record({ type: 'client.updated', ...origin(ctx), clientId: updated.client_id, data: { fields: Object.keys(body) } });
    ctx.body = updated;
  });
  router.post('/clients/:id/rotate-secret', async (ctx) => {
    const rotated = await clients.rotateSecret(ctx.params.id!);
    await audit.record({ type: 'client.secret_rotated', ...origin(ctx), clientId: rotated.client_id });
    ctx.body = rotated;
  });
  router.delete('/clients/:id', async (ctx) => {
    await clients.delete(ctx.params.id!);
    await audit.record({ type: 'client.deleted', ...origin(ctx), clientId: ctx.params.id! });
    ctx.status = 204;
  });

  // --- keys
  // the change is committed: should this node fail to re-read it now, its next refresh will
  const keysChanged = () => deps.keysChanged().catch((err) => deps.log.warn({ err }, 'could not reload the signing keys'));
  router.get('/keys', async (ctx) => { ctx.body = await keys.list(); });
  router.post('/keys/rotate', jsonBody(), async (ctx) => {
    const b = parse(keyRotation, ctx.request.body ?? {});
    const { kids, activatesAt } = await keys.rotate(b.alg ? [b.alg] : SIGNING_ALGS, { activateInSeconds: b.activate_in });
    await audit.record({ type: 'keys.rotated', ...origin(ctx), data: { kids, activates_at: activatesAt.toISOString() } });
    await keysChanged(); // this node at once; the others within their refresh interval
    ctx.body = { rotated: kids, activatesAt };
  });
  router.post('/keys/:kid/revoke', async (ctx) => {
    const revoked = await keys.revoke(ctx.params.kid!);
    await audit.record({ type: 'keys.revoked', ...origin(ctx), data: { kid: revoked.kid, alg: revoked.alg, was: revoked.status } });
    await keysChanged();
    ctx.body = { revoked: revoked.kid, alg: revoked.alg, was: revoked.status };
  });

  // --- audit
  router.get('/audit', async (ctx) => {
    const q = parse(auditQuery, ctx.query);
    const { total, events } = await admin.auditEvents({ ...q, since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined });
    ctx.body = { total, limit: q.limit, offset: q.offset, events: events.map((r) => ({ id: Number(r.id), at: r.at, type: r.type, actor_id: r.actor_id, subject_id: r.subject_id, client_id: r.client_id, ip: r.ip, user_agent: r.user_agent, data: r.data })) };
  });

  return router;
}
