// A terminal signs in with a public client (no secret). When someone points `gatehouse login` at a
// confidential client, oidc-provider answers the device authorization request with the same
// invalid_client "client authentication failed" it gives for a client that does not exist, and the
// CLI could only say "unknown client id". This says which it is: for a client that exists and has
// a secret, the description names it confidential (src/cli/user/login.ts reads that). A client id
// is a public identifier (it travels in every authorization URL), so this tells nobody anything
// secret; an unknown id keeps the provider's own answer.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Middleware } from 'koa';
import { PROVIDER_ROUTES } from './internals.ts';

export const CONFIDENTIAL_CLIENT_DESCRIPTION = 'this client is confidential: it must authenticate with its secret; a device without a secret needs a public client';

export function confidentialClientHint(): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== PROVIDER_ROUTES.device_authorization || ctx.method !== 'POST') return next();
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    if (ctx.status !== 401 || body?.error !== 'invalid_client' || !oidc) return;
    // only a request that sent no credentials at all: the CLI's (a wrong secret keeps its own answer)
    if (ctx.get('authorization')) return;
    const sent = (oidc.params ?? oidc.body) as { client_id?: unknown; client_secret?: unknown; client_assertion?: unknown } | undefined;
    if (typeof sent?.client_id !== 'string' || sent.client_secret !== undefined || sent.client_assertion !== undefined) return;
    const client = await oidc.provider.Client.find(sent.client_id).catch(() => undefined);
    if (client && client.clientAuthMethod !== 'none') body.error_description = CONFIDENTIAL_CLIENT_DESCRIPTION;
  };
}
