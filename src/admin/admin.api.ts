// The admin API under /api/admin: users, clients, keys, sessions, audit, impersonation. Every
// input validated at the edge; every change audited in the same transaction where the change is
// ours to make (the clients and keys services commit on their own and are audited right after).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { Audit } from '../audit/audit.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { AccountSessionRepo } from '../accounts/account-session.repo.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { AccountCache } from '../accounts/account-cache.ts';
import type { ClientService } from '../clients/client.service.ts';
import type { KeyService } from '../keys/key.service.ts';
import { auth } from '../api/bearer-auth.ts';
import { jsonBody } from '../http/body.ts';
import { guard, guarded, parseOr400 } from '../http/guard.ts';
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
import { liveSessions } from '../accounts/live-sessions.ts';
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

/** The impersonation request: the reason is checked by the service (it says what a good one is). */
const tokenRequest = z.object({ reason: z.unknown() });
/** A client's registration: checked field by field by the clients service (the CLI's rules too). */
const clientBody = z.record(z.string(), z.unknown(), { error: 'Send a JSON object.' });
/** The error code of a refused registration, whichever layer refuses it (RFC 7591 §3.2.2). */
const CLIENT_INVALID = 'invalid_client_metadata';

export interface AdminDeps {
  oidc: ProviderFacade;
  transactions: Transactions;
  accounts: AccountService;
  sessions: Pick<AccountSessionRepo, 'open' | 'end'>;
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
  const { transactions, accounts, clients, keys, adapters, audit } = deps;
  router.use(requireAdmin({ oidc: deps.oidc, accounts: deps.accountCache }));

  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, clientId: auth(ctx).clientId, ...requestOrigin(ctx) });
  const admin = deps.admin;
  const user = (id: string) => admin.user(id);

  // --- users
  router.get('/users', guard({ query: userQuery }), async (ctx) => {
    const q = guarded(ctx, { query: userQuery }).query;
    const { total, users } = await admin.searchUsers(q);
    ctx.body = { total, limit: q.limit, offset: q.offset, users: users.map(userView) };
  });
  router.post('/users', jsonBody(), guard({ body: newUser }), async (ctx) => {
    const b = guarded(ctx, { body: newUser }).body;
    const created = await transactions.run(async (tx) => {
      const u = await accounts.create({ email: b.email, password: b.password, name: b.name, roles: b.admin ? ['admin'] : [], emailVerified: b.email_verified }, tx);
      await audit.record({ type: 'user.created', subjectId: u.id, ...origin(ctx), data: { admin: b.admin, source: 'admin' } }, tx);
      return u;
    });
    ctx.status = 201;
    ctx.body = userView(created);
  });
  router.get('/users/:id', async (ctx) => {
    const u = await user(ctx.params.id!);
    ctx.body = { ...userView(u), mfa_required: u.mfa_required, factors: await deps.mfa.factors(u.id) };
  });
  router.patch('/users/:id', jsonBody(), guard({ body: userPatch }), async (ctx) => {
    const p = guarded(ctx, { body: userPatch }).body;
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
    ctx.body = (await liveSessions({ sessions: deps.sessions, adapters }, id)).map((r) => ({ uid: r.uid, ip: r.ip, user_agent: r.user_agent, created_at: r.created_at, last_seen_at: r.last_seen_at }));
  });
  router.delete('/users/:id/sessions/:uid', async (ctx) => {
    const id = (await user(ctx.params.id!)).id;
    const session = await deps.oidc.sessionByUid(ctx.params.uid!);
    if (!session || session.accountId !== id) throw notFound('no such session');
    await session.destroy();
    await deps.sessions.end(ctx.params.uid!);
    await audit.record({ type: 'session.revoked', subjectId: id, ...origin(ctx) });
    ctx.status = 204;
  });
  router.post('/users/:id/token', jsonBody(), guard({ body: tokenRequest }), async (ctx) => {
    const a = auth(ctx);
    const { reason } = guarded(ctx, { body: tokenRequest }).body;
    ctx.body = await deps.impersonation.mint({ adminId: a.accountId, targetId: ctx.params.id!, clientId: a.clientId, reason, origin: requestOrigin(ctx) });
  });

  // --- clients
  router.get('/clients', async (ctx) => { ctx.body = await clients.list(); });
  router.post('/clients', jsonBody(), async (ctx) => {
    const created = await clients.create(parseOr400(clientBody, ctx.request.body, 'body', CLIENT_INVALID) as never);
    await audit.record({ type: 'client.created', ...origin(ctx), clientId: created.client_id, data: { name: created.client_name } });
    ctx.status = 201;
    ctx.body = created;
  });
  router.get('/clients/:id', async (ctx) => { ctx.body = await clients.show(ctx.params.id!); });
  router.patch('/clients/:id', jsonBody(), async (ctx) => {
    const body = parseOr400(clientBody, ctx.request.body, 'body', CLIENT_INVALID);
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
  router.post('/keys/rotate', jsonBody(), guard({ body: keyRotation }), async (ctx) => {
    const b = guarded(ctx, { body: keyRotation }).body;
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
  router.get('/audit', guard({ query: auditQuery }), async (ctx) => {
    const q = guarded(ctx, { query: auditQuery }).query;
    const { total, events } = await admin.auditEvents({ ...q, since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined });
    ctx.body = { total, limit: q.limit, offset: q.offset, events: events.map((r) => ({ id: Number(r.id), at: r.at, type: r.type, actor_id: r.actor_id, subject_id: r.subject_id, client_id: r.client_id, ip: r.ip, user_agent: r.user_agent, data: r.data })) };
  });

  return router;
}
