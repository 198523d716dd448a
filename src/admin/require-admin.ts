// The admin API's gate: a Gatehouse access token of a user with the global admin role, carrying the
// admin scope (which only clients registered with it may ask for). Everything else: 401/403.
import type { Context, Next } from 'koa';
import { auth, requireToken, type BearerDeps } from '../api/bearer-auth.ts';
import { forbidden } from '../errors/app-error.ts';

export function requireAdmin(deps: BearerDeps) {
  const token = requireToken(deps, 'admin');
  return (ctx: Context, next: Next) => token(ctx, async () => {
    const a = auth(ctx);
    if (!a.user.roles.includes('admin')) throw forbidden('This call needs an administrator.', 'not_admin');
    if (a.act) throw forbidden('An impersonation token cannot use the admin API.', 'impersonation_token');
    await next();
  });
}
