// Bearer authentication for Gatehouse's own JSON APIs (/api/me, workspaces, admin). They accept
// the access tokens userinfo accepts — opaque, issued to any client, for a user — and authorise
// by scope (DESIGN.md). A client_credentials token, a resource-bound JWT, a token of a disabled
// account or of a revoked grant gets 401.
import type { Context, Next } from 'koa';
import { AppError } from '../errors/app-error.ts';
import type { ProviderFacade } from '../oidc/facade.ts';

/** The account a token belongs to, as far as authorisation needs it; a router's own lookup may return more. */
export interface ApiUser { id: string; roles: string[] }

/** What bearer authentication needs: the provider's tokens, and an active-account lookup (a port). */
export interface BearerDeps<U extends ApiUser = ApiUser> {
  oidc: Pick<ProviderFacade, 'findAccessToken' | 'findGrant'>;
  /** an active account by id (the account cache: no Postgres query for a known account) */
  accounts: { findActive(id: string): Promise<U | undefined> };
}

export interface ApiAuth<U extends ApiUser = ApiUser> {
  accountId: string;
  user: U;
  clientId: string;
  scopes: Set<string>;
  /** RFC 8693 actor, for impersonation tokens */
  act?: { sub: string };
  tokenId: string;
}

declare module 'koa' {
  interface DefaultState { auth?: ApiAuth }
}

function unauthorized(ctx: Context, description: string): AppError {
  ctx.set('WWW-Authenticate', `Bearer realm="gatehouse", error="invalid_token", error_description="${description}"`);
  return new AppError(401, 'invalid_token', description);
}

function bearer(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  return m?.[1];
}

/** Authenticates the bearer token; requires every scope in `scopes`. */
export function requireToken<U extends ApiUser>(deps: BearerDeps<U>, ...scopes: string[]) {
  return async (ctx: Context, next: Next) => {
    const value = bearer(ctx);
    if (!value) {
      ctx.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
      throw new AppError(401, 'invalid_token', 'Send an access token: Authorization: Bearer <token>.');
    }
    const token = await deps.oidc.findAccessToken(value);
    if (!token || token.isExpired) throw unauthorized(ctx, 'The access token is invalid or expired.');
    if (token.boundElsewhere) throw unauthorized(ctx, 'This access token is for another audience.');
    if (!token.accountId) throw unauthorized(ctx, 'This access token does not belong to a user.');
    if (token.grantId && !(await deps.oidc.findGrant(token.grantId))) throw unauthorized(ctx, 'The access token was revoked.');
    const user = await deps.accounts.findActive(token.accountId);
    if (!user) throw unauthorized(ctx, 'The account is disabled or no longer exists.');
    const granted = new Set(String(token.scope ?? '').split(' ').filter(Boolean));
    const missing = scopes.filter((s) => !granted.has(s));
    if (missing.length) {
      ctx.set('WWW-Authenticate', `Bearer realm="gatehouse", error="insufficient_scope", scope="${scopes.join(' ')}"`);
      throw new AppError(403, 'insufficient_scope', `This call needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`);
    }
    const extra = token.extra as { act?: { sub: string } };
    ctx.state.auth = { accountId: user.id, user, clientId: token.clientId!, scopes: granted, act: extra.act, tokenId: token.jti };
    await next();
  };
}

/**
 * Inside a route after requireToken. `U`: the account type that route's requireToken looked up
 * (its `accounts` port), which the request state cannot carry in its type.
 */
export function auth<U extends ApiUser = ApiUser>(ctx: Context): ApiAuth<U> {
  const a = ctx.state.auth as ApiAuth<U> | undefined;
  if (!a) throw new AppError(401, 'invalid_token', 'Not authenticated.');
  return a;
}
