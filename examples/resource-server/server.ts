// A resource server for Gatehouse JWT access tokens (RFC 9068): a small Koa API that verifies each
// token against the issuer's JWKS, reads the workspace claims, and requires a role on a route.
//
//   GATEHOUSE_ISSUER=http://localhost:3000 API_AUDIENCE=https://api.example.com PORT=4000 node server.ts
//
// Gatehouse must list the API as a resource (GATEHOUSE_RESOURCES=https://api.example.com), and the
// client asks for `resource=https://api.example.com` with the scope `workspace`, so the token carries
// workspace_id, workspace_slug, workspace_name and workspace_role.
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface WorkspaceToken extends JWTPayload {
  scope?: string;
  client_id?: string;
  workspace_id?: string;
  workspace_slug?: string;
  workspace_name?: string;
  workspace_role?: 'owner' | 'admin' | 'member';
}

export interface ResourceServerOptions {
  /** Gatehouse's issuer identifier, e.g. https://id.example.com */
  issuer: string;
  /** this API's resource indicator, as registered in GATEHOUSE_RESOURCES */
  audience: string;
}

function deny(ctx: Context, status: 401 | 403, error: string, message: string): void {
  if (status === 401) ctx.set('WWW-Authenticate', `Bearer error="${error}"`);
  ctx.status = status;
  ctx.body = { error, message };
}

export function createResourceServer(opts: ResourceServerOptions): Koa {
  // Keys are fetched once and cached; an unknown `kid` (a rotation) triggers one refetch.
  const jwks = createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));

  /** A valid Gatehouse access token for this API, or 401. */
  async function authenticate(ctx: Context, next: Next) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
    if (!match) return deny(ctx, 401, 'invalid_token', 'Send a Gatehouse access token: Authorization: Bearer <token>.');
    try {
      const { payload } = await jwtVerify<WorkspaceToken>(match[1]!, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        typ: 'at+jwt', // an access token, never an ID token (RFC 9068 §4)
        algorithms: ['RS256', 'ES256'],
      });
      ctx.state.token = payload;
    } catch {
      return deny(ctx, 401, 'invalid_token', 'The access token is invalid, expired, or not for this API.');
    }
    await next();
  }

  /** The token's active workspace must give one of `roles`. */
  function requireWorkspaceRole(...roles: Array<NonNullable<WorkspaceToken['workspace_role']>>) {
    return async (ctx: Context, next: Next) => {
      const token = ctx.state.token as WorkspaceToken;
      if (!token.workspace_id) return deny(ctx, 403, 'workspace_required', 'Sign in with the workspace scope and choose a workspace.');
      if (!token.workspace_role || !roles.includes(token.workspace_role)) {
        return deny(ctx, 403, 'insufficient_role', `This needs the role ${roles.join(' or ')} in the workspace.`);
      }
      await next();
    };
  }

  const router = new Router();
  router.get('/whoami', authenticate, (ctx) => {
    const t = ctx.state.token as WorkspaceToken;
    ctx.body = { sub: t.sub, workspace: t.workspace_id ? { id: t.workspace_id, slug: t.workspace_slug, name: t.workspace_name, role: t.workspace_role } : null };
  });
  // Any member may read the workspace's projects; only owners and admins may create one.
  router.get('/projects', authenticate, requireWorkspaceRole('owner', 'admin', 'member'), (ctx) => {
    const t = ctx.state.token as WorkspaceToken;
    ctx.body = { workspace_id: t.workspace_id, projects: [] };
  });
  router.post('/projects', authenticate, requireWorkspaceRole('owner', 'admin'), (ctx) => {
    const t = ctx.state.token as WorkspaceToken;
    ctx.status = 201;
    ctx.body = { workspace_id: t.workspace_id, created_by: t.sub };
  });

  const app = new Koa();
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 4000);
  const app = createResourceServer({
    issuer: process.env.GATEHOUSE_ISSUER ?? 'http://localhost:3000',
    audience: process.env.API_AUDIENCE ?? 'https://api.example.com',
  });
  app.listen(port, () => console.log(`resource server on http://localhost:${port}`));
}
