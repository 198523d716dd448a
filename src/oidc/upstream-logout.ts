// Signing out upstream too: after the provider's end-session confirm has signed the browser out
// ("Yes, sign me out": `logout` in the form) and is redirecting it on, the port (implemented by
// src/federation/upstream-logout.ts, wired in src/root.ts) may send the browser to an upstream
// provider's sign-out first; it comes back to where the provider was sending it. Nothing changes
// for a browser that did not sign in upstream (one cookie read).
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { UpstreamLogoutPort } from './ports.ts';

export function signOutUpstream(provider: Provider, port: UpstreamLogoutPort | undefined): Provider {
  if (!port) return provider;
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route !== 'end_session_confirm' || ctx.status !== 303) return;
    if (!(oidc.params as { logout?: unknown } | undefined)?.logout) return; // signed out of one app only
    const next_ = ctx.response.get('location');
    if (!next_) return;
    // the sign-out is done whatever happens upstream: a failure here only skips the upstream step
    const upstream = await port.after(ctx, next_).catch(() => undefined);
    if (upstream) ctx.redirect(upstream);
  });
  return provider;
}
