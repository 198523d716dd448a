// offline_access asks the user's consent once per grant, not at every sign-in. OpenID Connect Core
// §11 says a request for offline_access MUST carry prompt=consent "unless other conditions for
// processing the request permitting offline access to the requested resources are in place", and
// oidc-provider silently drops offline_access from any request without prompt=consent; an app that
// asks for it plainly (the README's openid-client example) would get no refresh token and fail at
// its first refresh, with nothing said. So for a client registered for the refresh_token grant,
// Gatehouse adds prompt=consent to such a request itself (the library then keeps offline_access)
// and marks the request as one whose consent it implied. For a marked request the consent prompt is
// asked only for what the user has not granted this app yet (src/oidc/policy.ts): the first time
// ("Stay signed in while you are away" is on the page), and again after the grant was revoked
// (account page "Apps"), but not at every sign-in once the user agreed — the consent they gave this
// app for offline_access is the "other condition" of §11. An app that sends prompt=consent itself
// always gets the page. prompt=none is left alone (no consent can be asked; offline_access is
// dropped, no refresh token).
//
// The mark is a request parameter of ours (registered with extraParams, so the library keeps it
// with the request's parameters across the sign-in interaction), set here only: a client that sends
// it at /auth has it removed before the library reads the request, and the extraParams check drops
// it wherever else it could come from (a pushed or signed request object, another endpoint).
// Runs before the provider's handler (provider.use), on the authorization and PAR endpoints only.
import { parse as parseQuery, stringify as stringifyQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { clientAllowsGrant, dropParam, handOnParsedForm, PROVIDER_FORM_BODY_LIMIT_BYTES, PROVIDER_ROUTES } from './internals.ts';
/** Our mark: the consent prompt of this request was added by Gatehouse for offline_access. */
export const IMPLIED_CONSENT_PARAM = 'gh_offline_consent';
const MARK = '1';

/** Requests this middleware marked (the mark in the parameters is trusted only for these). */
const marked = new WeakSet<object>();

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
    return clientAllowsGrant(await provider.Client.find(clientId), 'refresh_token');
  } catch {
    return false; // the library answers for an unknown or broken client
  }
}

async function readForm(req: NodeJS.ReadableStream & { headers: Record<string, unknown> }): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > PROVIDER_FORM_BODY_LIMIT_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Removes a mark the client sent; adds consent to the prompt, and our mark, where offline_access needs it. */
async function rewrite(ctx: Context, provider: Provider, params: ParsedUrlQuery): Promise<ParsedUrlQuery> {
  const { [IMPLIED_CONSENT_PARAM]: _sent, ...rest } = params;
  const prompt = promptWithConsent(rest);
  if (!prompt || !await mayRefresh(provider, rest.client_id)) return rest;
  marked.add(ctx);
  return { ...rest, prompt, [IMPLIED_CONSENT_PARAM]: MARK };
}

/**
 * A pushed authorization request (RFC 9126) is the same request sent ahead: offline_access there
 * gets prompt=consent too, but no mark (the mark is trusted only on the /auth request this
 * middleware saw), so such a request always shows the consent page — asked more often than needed,
 * never dropped silently.
 */
async function pushedRequest(ctx: Context, provider: Provider): Promise<void> {
  if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded') || !ctx.req.readable) return;
  const raw = await readForm(ctx.req as never);
  if (raw === undefined) ctx.throw(413, 'request entity too large');
  const { [IMPLIED_CONSENT_PARAM]: _sent, ...params } = parseQuery(raw!);
  const prompt = promptWithConsent(params);
  handOnParsedForm(ctx, prompt && await mayRefresh(provider, params.client_id) ? { ...params, prompt } : params);
}

export function offlineAccessConsent(provider: Provider): Middleware {
  return async (ctx, next) => {
    if (ctx.path === PROVIDER_ROUTES.pushed_authorization_request) { await pushedRequest(ctx, provider); return next(); }
    if (ctx.path !== PROVIDER_ROUTES.authorization) return next();
    if (ctx.method === 'GET') {
      const query = parseQuery(ctx.querystring);
      if (promptWithConsent(query) || query[IMPLIED_CONSENT_PARAM] !== undefined) {
        const rewritten = await rewrite(ctx, provider, query);
        if (marked.has(ctx) || query[IMPLIED_CONSENT_PARAM] !== undefined) ctx.querystring = stringifyQuery(rewritten);
      }
    } else if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded') && ctx.req.readable) {
      // the body is read here once and handed on parsed (the library accepts a parsed body)
      const raw = await readForm(ctx.req as never);
      if (raw === undefined) ctx.throw(413, 'request entity too large');
      handOnParsedForm(ctx, await rewrite(ctx, provider, parseQuery(raw!)));
    }
    return next();
  };
}

/**
 * extraParams validator of the mark: kept only on the authorization request this middleware marked;
 * from anywhere else (a client, a pushed or signed request object, another endpoint) it is dropped.
 */
export function checkImpliedConsentParam(ctx: KoaContextWithOIDC, value: string | undefined): void {
  if (value === undefined) return;
  if (ctx.oidc.route === 'authorization' && marked.has(ctx) && value === MARK) return;
  dropParam(ctx, IMPLIED_CONSENT_PARAM);
}

/**
 * True when the request's consent prompt is there only because Gatehouse added it for
 * offline_access (read from the request's parameters, also when it resumes after the sign-in).
 */
export function consentImpliedForOfflineAccess(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.params?.[IMPLIED_CONSENT_PARAM] === MARK;
}
