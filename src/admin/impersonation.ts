// Impersonation: a short-lived access token for a user, minted by an admin with a reason, that
// carries act: {sub: <admin>} (RFC 8693 §4.1), has no refresh token, and is on the record.
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { AuditRepo } from '../audit/audit.repo.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import { AppError, badRequest, forbidden, notFound } from '../errors/app-error.ts';

/** What an impersonation token may do: act at userinfo and the account API, as the user. */
export const IMPERSONATION_SCOPE = 'openid profile email';

export interface ImpersonationPolicy { ttlSeconds: number; allowAdminTargets: boolean }

export function impersonationPolicy(config: { administration: { impersonationTtl: number; impersonateAdmins: boolean } }): ImpersonationPolicy {
  return { ttlSeconds: config.administration.impersonationTtl, allowAdminTargets: config.administration.impersonateAdmins };
}

export function createImpersonation(deps: { oidc: Pick<ProviderFacade, 'mintAccessToken'>; auditEvents: Pick<AuditRepo, 'latestAbout'>; accounts: AccountService; audit: Audit; policy: ImpersonationPolicy }) {
  return {
    async mint(input: { adminId: string; targetId: string; clientId: string; reason: unknown; origin: Pick<AuditEvent, 'ip' | 'userAgent'> }) {
      const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
      if (reason.length < 3 || reason.length > 500) throw badRequest('Give a reason (3 to 500 characters): it goes on the record and the user can see it.', 'reason_required');
      const target = await deps.accounts.findById(input.targetId);
      if (!target) throw notFound('No such user.');
      if (target.disabled_at) throw new AppError(409, 'user_disabled', 'This user is disabled; a token for them would be refused anyway.');
      if (target.id === input.adminId) throw badRequest('You cannot impersonate yourself.', 'self');
      if (target.roles.includes('admin') && !deps.policy.allowAdminTargets) throw forbidden('Impersonating another admin is not allowed here (GATEHOUSE_IMPERSONATE_ADMINS).', 'admin_target');

      const ttl = deps.policy.ttlSeconds;
      // a grant of its own living as long as the token, so revoking it (or the user's grants) ends the token
      const token = await deps.oidc.mintAccessToken({
        accountId: target.id, clientId: input.clientId, scope: IMPERSONATION_SCOPE, ttlSeconds: ttl, gty: 'impersonation',
        extra: { act: { sub: input.adminId } },
      });
      const expiresAt = new Date(Date.now() + ttl * 1000);
      await deps.audit.record({
        type: 'impersonation.token_issued', actorId: input.adminId, subjectId: target.id, clientId: input.clientId, ...input.origin,
        data: { reason, token_id: token.jti, expires_at: expiresAt.toISOString() },
      });
      return { access_token: token.value, token_type: 'Bearer' as const, expires_in: ttl, scope: IMPERSONATION_SCOPE };
    },

    /** For the user's own account page: when they were impersonated, by whom, why. */
    async historyFor(userId: string, limit = 20) {
      const rows = await deps.auditEvents.latestAbout(userId, 'impersonation.token_issued', limit);
      const admins = new Map<string, string>();
      for (const r of rows) {
        if (r.actor_id && !admins.has(r.actor_id)) admins.set(r.actor_id, (await deps.accounts.findById(r.actor_id))?.email ?? 'an administrator');
      }
      return rows.map((r) => ({ at: new Date(r.at), by: admins.get(r.actor_id ?? '') ?? 'an administrator', reason: (r.data as { reason?: string }).reason ?? '' }));
    },
  };
}
export type Impersonation = ReturnType<typeof createImpersonation>;
