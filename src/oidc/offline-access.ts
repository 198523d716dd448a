// offline_access asks the user's consent. OpenID Connect Core §11 says a request for offline_access
// "MUST" carry prompt=consent, and oidc-provider silently drops offline_access from any request
// that does not; an app that asks for it plainly (the README's openid-client example) then gets no
// refresh token and fails at its first refresh, with nothing said. Gatehouse instead treats such a
// request as asking for consent: the consent page is shown (it lists "Stay signed in while you are
// away"), and a client registered for the refresh_token grant whose user allows it gets a refresh
// token. So the user always consents to the refresh token, as §11 requires, and the app need not
// know the rule. prompt=none is left alone (no consent can be asked; offline_access is dropped).
// It runs before the provider's handler (provider.use), on the authorization endpoint only.
import { parse as parseQuery, stringify as stringifyQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';

/** oidc-provider's default route, which src/oidc/provider.ts keeps. */
const AUTHORIZATION_PATH = '/auth';
/** The library's own limit for a form body (lib/shared/selective_body.js). */
const FORM_BODY_LIMIT_BYTES = 56 * 1024;

/** The prompt to use, or undefined when the request needs no change (or is the library's to refuse). */
function promptWithConsent(params: ParsedUrlQuery): string | undefined {
  const { scope, prompt } = params;
  if (typeof scope !== 'string' || !scope.split(' ').includes('offline_access')) return undefined;
  if (prompt !== undefined && typeof prompt !== 'string') return undefined; // duplicated: the library says invalid_request
  const prompts = (prompt ?? '').split(' ').filter(Boolean);
  if (prompts.includes('consent') || prompts.includes('none')) return undefined;
  return [...prompts, 'consent'].join(' ');
}

async function mayRefresh(provider: Provider, clientId: unknown): Promise<boolean> {
  if (typeof clientId !== 'string' || !clientId) return false;
  try {
    const client = await provider.Client.find(clientId);
    return !!client?.grantTypeAllowed('refresh_token');
  } catch {
    return false; // the library answers for an unknown or broken client
  }
}

async function readForm(req: NodeJS.ReadableStream & { headers: Record<string, unknown> }): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_BODY_LIMIT_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function offlineAccessConsent(provider: Provider): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== AUTHORIZATION_PATH) return next();
    if (ctx.method === 'GET') {
      const query = parseQuery(ctx.querystring);
      const prompt = promptWithConsent(query);
      if (prompt && await mayRefresh(provider, query.client_id)) ctx.querystring = stringifyQuery({ ...query, prompt });
    } else if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded') && ctx.req.readable) {
      // the body is read here once and handed on parsed (the library accepts a parsed body)
      const raw = await readForm(ctx.req as never);
      if (raw === undefined) ctx.throw(413, 'request entity too large');
      const form = parseQuery(raw!);
      const prompt = promptWithConsent(form);
      if (prompt && await mayRefresh(provider, form.client_id)) form.prompt = prompt;
      (ctx.request as { body?: unknown }).body = form;
    }
    return next();
  };
}
