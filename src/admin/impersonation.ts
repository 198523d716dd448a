// Impersonation: a short-lived access token for a user, minted by an admin with a reason, that
// carries act: {sub: <admin>} (RFC 8693 §4.1), has no refresh token, and is on the record.
// And a support session: a browser session as the user (src/oidc/support-session.ts), opened from a
// single-use link the console makes, in a private window, never over the admin's own session;
// audited with the reason, shown on the user's Sessions and account pages, as long as a token lives.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AuditRepo } from '../audit/audit.repo.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors/app-error.ts';

/** What an impersonation token may do: act at userinfo and the account API, as the user. */
export const IMPERSONATION_SCOPE = 'openid profile email';

export interface ImpersonationPolicy { ttlSeconds: number; allowAdminTargets: boolean }

export function impersonationPolicy(config: { administration: { impersonationTtl: number; impersonateAdmins: boolean } }): ImpersonationPolicy {
  return { ttlSeconds: config.administration.impersonationTtl, allowAdminTargets: config.administration.impersonateAdmins };
}

/** How long a support-session link may wait to be opened; the session's own time starts then. */
export const SUPPORT_LINK_TTL_SECONDS = 10 * 60;
/** The shape of a support-session link token: 32 random bytes, base64url. Anything else is not looked up. */
export const SUPPORT_LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const SUPPORT_OPENED = 'impersonation.session_opened';
const TOKEN_ISSUED = 'impersonation.token_issued';

interface SupportLink { adminId: string; targetId: string; reason: string }
const linkKey = (token: string) => createHash('sha256').update(token).digest('base64url');

export function createImpersonation(deps: {
  oidc: Pick<ProviderFacade, 'mintAccessToken' | 'openSupportSession' | 'signedInAccountId'>; auditEvents: Pick<AuditRepo, 'latestAbout'>;
  accounts: AccountService; audit: Audit; policy: ImpersonationPolicy; adapters: AdapterFactory;
}) {
  const links = deps.adapters('SupportLink');

  function reasonOf(value: unknown): string {
    const reason = typeof value === 'string' ? value.trim() : '';
    if (reason.length < 3 || reason.length > 500) throw badRequest('Give a reason (3 to 500 characters): it goes on the record and the user can see it.', 'reason_required');
    return reason;
  }
  /** The user an admin may act as: enabled, not themselves, an admin only where allowed. */
  async function targetFor(adminId: string, targetId: string, what = 'a token'): Promise<UserRow> {
    const target = await deps.accounts.findById(targetId);
    if (!target) throw notFound('No such user.');
    if (target.disabled_at) throw new AppError(409, 'user_disabled', `This user is disabled; ${what} for them would be refused anyway.`);
    if (target.id === adminId) throw badRequest('You cannot impersonate yourself.', 'self');
    if (target.roles.includes('admin') && !deps.policy.allowAdminTargets) throw forbidden('Impersonating another admin is not allowed here (GATEHOUSE_IMPERSONATE_ADMINS).', 'admin_target');
    return target;
  }
  const emailOf = async (id: string | null | undefined) => (id ? (await deps.accounts.findById(id))?.email : undefined) ?? 'an administrator';

  /** A live link by its token, with who made it for whom (no look-up for a malformed token). */
  async function linkOf(token: string): Promise<(SupportLink & { key: string }) | undefined> {
    if (!SUPPORT_LINK_TOKEN.test(token)) return undefined;
    const key = linkKey(token);
    const link = await links.find(key) as SupportLink | undefined;
    return link ? { ...link, key } : undefined;
  }

  return {
    policy: deps.policy,

    async mint(input: { adminId: string; targetId: string; clientId: string; reason: unknown; origin: Pick<AuditEvent, 'ip' | 'userAgent'> }) {
      const reason = reasonOf(input.reason);
      const target = await targetFor(input.adminId, input.targetId);

      const ttl = deps.policy.ttlSeconds;
      // a grant of its own living as long as the token, so revoking it (or the user's grants) ends the token
      const token = await deps.oidc.mintAccessToken({
        accountId: target.id, clientId: input.clientId, scope: IMPERSONATION_SCOPE, ttlSeconds: ttl, gty: 'impersonation',
        extra: { act: { sub: input.adminId } },
      });
      const expiresAt = new Date(Date.now() + ttl * 1000);
      await deps.audit.record({
        type: TOKEN_ISSUED, actorId: input.adminId, subjectId: target.id, clientId: input.clientId, ...input.origin,
        data: { reason, token_id: token.jti, expires_at: expiresAt.toISOString() },
      });
      return { access_token: token.value, token_type: 'Bearer' as const, expires_in: ttl, scope: IMPERSONATION_SCOPE };
    },

    /**
     * A single-use link that opens a support session as the user, for SUPPORT_LINK_TTL_SECONDS. Its
     * token is shown once and stored only as a hash; the making is on the record with the reason.
     */
    async createSupportLink(input: { adminId: string; targetId: string; reason: unknown; origin: Pick<AuditEvent, 'ip' | 'userAgent'> }) {
      const reason = reasonOf(input.reason);
      const target = await targetFor(input.adminId, input.targetId, 'a session');
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + SUPPORT_LINK_TTL_SECONDS * 1000);
      await links.upsert(linkKey(token), { adminId: input.adminId, targetId: target.id, reason } satisfies SupportLink, SUPPORT_LINK_TTL_SECONDS);
      await deps.audit.record({
        type: 'impersonation.support_link_created', actorId: input.adminId, subjectId: target.id, clientId: null, ...input.origin,
        data: { reason, link_expires_at: expiresAt.toISOString(), session_seconds: deps.policy.ttlSeconds },
      });
      return { token, linkExpiresAt: expiresAt, sessionSeconds: deps.policy.ttlSeconds };
    },

    /** What a link would open, for its confirmation page: undefined when unknown, used or expired. */
    async peekSupportLink(token: string) {
      const link = await linkOf(token);
      if (!link) return undefined;
      const target = await deps.accounts.findById(link.targetId);
      if (!target) return undefined;
      return { user: target.email, by: await emailOf(link.adminId), reason: link.reason, sessionSeconds: deps.policy.ttlSeconds };
    },

    /**
     * Opens the link's support session on this browser, once. Refused while the browser is signed
     * in (the link stays usable: open it in a private window), and under the same rules as a token.
     */
    async openSupportSession(ctx: Context, token: string, origin: Pick<AuditEvent, 'ip' | 'userAgent'>) {
      if (await deps.oidc.signedInAccountId(ctx)) throw conflict('This browser is signed in. Open the link in a private window, so that its own session stays as it is.', 'signed_in');
      const link = await linkOf(token);
      if (!link) throw new AppError(410, 'link_used', 'This support link was used or has expired. Make a new one on the user\'s page in the console.');
      await links.destroy(link.key); // single use, before anything else can fail half-way
      const target = await targetFor(link.adminId, link.targetId, 'a session');
      const opened = await deps.oidc.openSupportSession(ctx, { accountId: target.id, ttlSeconds: deps.policy.ttlSeconds });
      if (!opened) throw conflict('This browser is signed in. Open the link in a private window, so that its own session stays as it is.', 'signed_in');
      await deps.audit.record({
        type: SUPPORT_OPENED, actorId: link.adminId, subjectId: target.id, clientId: null, ...origin,
        data: { reason: link.reason, session_uid: opened.uid, expires_at: opened.expiresAt.toISOString() },
      });
      return { user: target, expiresAt: opened.expiresAt, by: await emailOf(link.adminId) };
    },

    /**
     * For the user's own account pages: when they were impersonated (a token, or a support session
     * with its session's uid and end), by whom, why; newest first.
     */
    async historyFor(userId: string, limit = 20) {
      const rows = [
        ...await deps.auditEvents.latestAbout(userId, TOKEN_ISSUED, limit),
        ...await deps.auditEvents.latestAbout(userId, SUPPORT_OPENED, limit),
      ].sort((a, b) => new Date(b.at).getTime() - new Date(a.at).getTime()).slice(0, limit);
      const admins = new Map<string, string>();
      for (const r of rows) {
        if (r.actor_id && !admins.has(r.actor_id)) admins.set(r.actor_id, await emailOf(r.actor_id));
      }
      return rows.map((r) => {
        const d = r.data as { reason?: string; session_uid?: string; expires_at?: string };
        return {
          at: new Date(r.at), by: admins.get(r.actor_id ?? '') ?? 'an administrator', reason: d.reason ?? '',
          kind: r.type === SUPPORT_OPENED ? 'session' as const : 'token' as const,
          sessionUid: d.session_uid, until: d.expires_at ? new Date(d.expires_at) : undefined,
        };
      });
    },
  };
}
export type Impersonation = ReturnType<typeof createImpersonation>;
