// A support session: a browser session at the provider as a user, opened by an administrator for a
// support case (src/admin/impersonation.ts keeps the record: who, why, until when). It is marked by
// its authentication method (amr "support"), and it lives no longer than GATEHOUSE_IMPERSONATION_TTL
// from its start: the provider re-saves a session on each of its requests with the session
// lifetime, which for a support session is what is left of its own (supportAwareSessionTtl).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { CookiesSetOptions, KoaContextWithOIDC, Session } from 'oidc-provider';
import { sessionAmr, sessionCookieName } from './internals.ts';

/** The amr of a support session (RFC 8176 has no word for it; a registered value would be misleading). */
export const SUPPORT_AMR = 'support';

/**
 * The request that opened a session outside the provider's own routes, for the session-tracking
 * listener (src/oidc/session-tracking.ts), which otherwise reads the provider's request context.
 */
export const outsideProviderRequest = new AsyncLocalStorage<Context>();

/** ttl.Session: the configured lifetime, or for a support session what is left of its own. */
export function supportAwareSessionTtl(sessionTtl: number, supportTtl: number) {
  return (_ctx: KoaContextWithOIDC, session: Session): number => {
    if (!sessionAmr(session).includes(SUPPORT_AMR)) return sessionTtl;
    const left = (session.loginTs ?? 0) + supportTtl - Math.floor(Date.now() / 1000);
    return Math.max(1, Math.min(sessionTtl, left));
  };
}

/** Whether an amr list (a session's, a code's, a token's) is a support session's. */
export function isSupportAmr(amr: unknown): boolean {
  return Array.isArray(amr) && amr.includes(SUPPORT_AMR);
}

/**
 * issueRefreshToken: the provider's default rule (the grant allows it and offline_access was
 * granted), except for codes made in a support session: what an administrator does as the user ends
 * with the session, so nothing it obtains may outlive it.
 */
export async function noRefreshTokenFromSupport(
  _ctx: KoaContextWithOIDC,
  client: { grantTypeAllowed(type: string): boolean },
  code: { scopes: Set<string>; amr?: string[] },
): Promise<boolean> {
  return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access') && !isSupportAmr(code.amr);
}

export interface OpenedSupportSession { uid: string; expiresAt: Date }

/**
 * Opens a support session as `accountId` on this browser. Refused (undefined) when the browser is
 * already signed in: a support session never silently replaces someone's own session.
 */
export async function openSupportSession(provider: Provider, ctx: Context, input: {
  accountId: string; ttlSeconds: number; cookie: CookiesSetOptions;
}): Promise<OpenedSupportSession | undefined> {
  const existing = await provider.Session.get(ctx);
  if (existing.accountId) return undefined;
  const session = new provider.Session();
  const now = Math.floor(Date.now() / 1000);
  session.loginAccount({ accountId: input.accountId, loginTs: now, amr: [SUPPORT_AMR] });
  const cookies = provider.createContext(ctx.req, ctx.res).cookies;
  // Secure only for an https issuer or GATEHOUSE_AUTHORIZE_POST (then https, or loopback http: src/oidc/authorize-post.ts)
  cookies.secure = ctx.secure || input.cookie.secure === true ? true : cookies.secure;
  cookies.set(sessionCookieName(provider), session.jti, { ...input.cookie, maxAge: input.ttlSeconds * 1000 });
  await outsideProviderRequest.run(ctx, () => session.save(input.ttlSeconds));
  return { uid: session.uid, expiresAt: new Date((now + input.ttlSeconds) * 1000) };
}
