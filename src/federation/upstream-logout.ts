// Signing out upstream too (a provider's `logout_upstream` setting). After an upstream sign-in in a
// browser, the upstream's ID token is kept in the short-lived store under a random handle that only
// that browser holds (a signed, httpOnly cookie: never the token itself in a cookie). When the user
// then signs out of Gatehouse (RP-initiated logout, "Yes, sign me out"), the provider's end-session
// hook (src/oidc/upstream-logout.ts) asks `after()` where the browser goes next: the upstream's
// end_session_endpoint with that ID token as id_token_hint, returning to
// {issuer}/providers/{name}/signed-out, which sends the browser on to where Gatehouse's own
// sign-out was going (the app's post_logout_redirect_uri with its state, or the signed-out page).
// That return URL must be registered upstream as a post-logout redirect URI (docs/providers.md).
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import { toFlowProvider, type FlowProvider } from './flow-provider.ts';
import type { UpstreamClient } from './upstream-client.ts';

const COOKIE = 'gh_upstream_session';
/** Long enough to come back from the upstream's sign-out page (it may ask "sign out?"). */
const RETURN_TTL_SECONDS = 10 * 60;
const HANDLE = /^[A-Za-z0-9_-]{43}$/;

interface UpstreamSession { provider: string; idToken: string }

export interface UpstreamLogoutDeps {
  issuer: string;
  adapters: AdapterFactory;
  providers: Pick<ProviderService, 'get'>;
  upstreamClient: Pick<UpstreamClient, 'endSessionUrl'>;
  oidc: Pick<ProviderFacade, 'routes'>;
  /** how long a hosted session lives: the handle lives as long */
  sessionTtlSeconds: number;
}

export const signedOutUrl = (issuer: string, name: string) => `${issuer}/providers/${name}/signed-out`;

export function createUpstreamLogout(deps: UpstreamLogoutDeps) {
  const sessions = deps.adapters('UpstreamSession');
  const returns = deps.adapters('UpstreamLogout');
  const secure = deps.issuer.startsWith('https:');
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true, path: '/', overwrite: true };

  return {
    /** After an upstream sign-in in this browser: keep its ID token for signing out there later. */
    async remember(ctx: Context, p: FlowProvider, idToken: string | undefined): Promise<void> {
      if (!p.logoutUpstream || !idToken) return;
      const handle = randomBytes(32).toString('base64url');
      await sessions.upsert(handle, { provider: p.name, idToken } as never, deps.sessionTtlSeconds);
      ctx.cookies.set(COOKIE, handle, { ...cookieOptions, maxAge: deps.sessionTtlSeconds * 1000 });
    },

    /**
     * Gatehouse has just signed this browser out and is sending it to `next`: the upstream's
     * sign-out URL to go to first, or undefined (no upstream sign-in here, the provider no longer
     * signs out upstream, or the upstream has no end_session_endpoint).
     */
    async after(ctx: Context, next: string): Promise<string | undefined> {
      const handle = ctx.cookies.get(COOKIE, { signed: true });
      if (!handle || !HANDLE.test(handle)) return undefined;
      ctx.cookies.set(COOKIE, null, cookieOptions);
      const record = await sessions.find(handle) as UpstreamSession | undefined;
      if (!record) return undefined;
      await sessions.destroy(handle);
      const config = await deps.providers.get(record.provider);
      if (!config || !config.enabled) return undefined;
      const p = toFlowProvider(config);
      if (!p.logoutUpstream) return undefined;
      const state = randomBytes(24).toString('base64url');
      const url = await deps.upstreamClient.endSessionUrl(p, record.idToken, signedOutUrl(deps.issuer, p.name), state);
      if (!url) return undefined;
      await returns.upsert(state, { next } as never, RETURN_TTL_SECONDS);
      return url;
    },

    /** Back from the upstream's sign-out: on to where Gatehouse's sign-out was going. */
    router(): Router {
      const router = new Router();
      router.get('/providers/:name/signed-out', async (ctx) => {
        ctx.set('Cache-Control', 'no-store');
        const state = typeof ctx.query.state === 'string' && ctx.query.state.length <= 64 ? ctx.query.state : '';
        const record = state ? await returns.find(state) as { next: string } | undefined : undefined;
        if (record) await returns.destroy(state);
        // `next` was written by Gatehouse's own sign-out (a registered post-logout URI, or ours),
        // never taken from the query; without it, Gatehouse's signed-out page
        ctx.status = 303;
        ctx.redirect(record?.next ?? `${deps.issuer}${deps.oidc.routes.end_session}/success`);
      });
      return router;
    },
  };
}
export type UpstreamLogout = ReturnType<typeof createUpstreamLogout>;
