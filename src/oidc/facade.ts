// The provider, as the layers above oidc/ use it: the hosted interaction pages, the account pages,
// the workspace pages and API, the admin API and console, the JSON APIs' bearer auth. In our own
// types, so that only oidc/ imports oidc-provider and a library upgrade stays in this folder.
// Built once from the live provider (src/oidc/host.ts: it is rebuilt when the signing keys change),
// so every call reads the provider of the moment.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { browserSession, sessionByUid, type BrowserSession } from './browser-session.ts';
import { boundElsewhere, mintAccessToken, PROVIDER_ROUTES } from './internals.ts';
import type { CookiesSetOptions } from 'oidc-provider';
import { openSupportSession, type OpenedSupportSession } from './support-session.ts';

export type { BrowserSession } from './browser-session.ts';

/** An interaction (a prompt of an authorization request) being answered by a hosted page. */
export interface Interaction {
  uid: string;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  /** the authorization request's parameters */
  params: Record<string, unknown>;
  /** the browser's session, once someone signed in */
  /** the browser session behind this interaction: whose, and how it signed in (amr) */
  session?: { accountId: string; amr?: string[] };
  /** the grant an earlier consent of this account for this client recorded */
  grantId?: string;
}

/** What an interaction ends with (oidc-provider's interaction result: login, consent, error …). */
export type InteractionResult = Record<string, unknown>;

/** An opaque access token, looked up by its value. */
export interface AccessTokenRecord {
  jti: string;
  accountId?: string;
  clientId?: string;
  scope?: string;
  grantId?: string;
  isExpired: boolean;
  /** bound to a resource server or a key (aud, DPoP, mTLS): not for Gatehouse's own APIs */
  boundElsewhere: boolean;
  extra: Record<string, unknown>;
}

export interface GrantRecord { accountId?: string; clientId?: string; destroy(): Promise<void> }

export interface ProviderFacade {
  interactionDetails(ctx: Context): Promise<Interaction>;
  /** records the result and answers the URL to send the browser back to */
  finishInteraction(ctx: Context, result: InteractionResult, opts: { merge: boolean }): Promise<string>;
  /** records what the consent prompt asked for in the interaction's grant; a new grant's id, else undefined */
  grantConsent(interaction: Interaction): Promise<string | undefined>;
  clientName(clientId: string): Promise<string | undefined>;
  /** the client's registered metadata (Gatehouse's require_mfa, require_email_verification …) */
  clientMetadata(clientId: string): Promise<Record<string, unknown> | undefined>;
  browserSession(ctx: Context): Promise<BrowserSession>;
  signedInAccountId(ctx: Context): Promise<string | undefined>;
  sessionByUid(uid: string): Promise<BrowserSession | undefined>;
  findAccessToken(value: string): Promise<AccessTokenRecord | undefined>;
  findGrant(grantId: string): Promise<GrantRecord | undefined>;
  /** burns an authorization code issued to `clientId` (the account pages never redeem theirs) */
  destroyAuthorizationCode(code: string, clientId: string): Promise<void>;
  /** a grant with `scope` living `ttlSeconds`, and one access token under it */
  mintAccessToken(input: {
    accountId: string; clientId: string; scope: string; ttlSeconds: number; gty: string; extra: Record<string, unknown>;
  }): Promise<{ value: string; jti: string }>;
  /**
   * A support session (src/oidc/support-session.ts): this browser signed in as `accountId` for
   * `ttlSeconds`, amr "support"; undefined when the browser is already signed in (never replaced).
   */
  openSupportSession(ctx: Context, input: { accountId: string; ttlSeconds: number }): Promise<OpenedSupportSession | undefined>;
  /** the provider's route paths (its authorization endpoint for the account pages' own sign-in …) */
  routes: ProviderRoutes;
}

export type ProviderRoutes = typeof PROVIDER_ROUTES;

/** `sessionCookie`: the provider's session cookie settings (its cookies.long), for sessions opened outside its routes. */
export function createProviderFacade(current: () => Provider, opts: { sessionCookie?: CookiesSetOptions } = {}): ProviderFacade {
  return {
    async interactionDetails(ctx) {
      const d = await current().interactionDetails(ctx.req, ctx.res);
      return {
        uid: d.uid,
        prompt: { name: d.prompt.name, reasons: d.prompt.reasons, details: d.prompt.details as Record<string, unknown> },
        params: d.params as Record<string, unknown>,
        session: d.session?.accountId ? { accountId: d.session.accountId, amr: (d.session as { amr?: string[] }).amr } : undefined,
        grantId: d.grantId,
      };
    },
    finishInteraction: (ctx, result, opts) => current().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: opts.merge }),

    async grantConsent(interaction) {
      const provider = current();
      const { prompt, params, session } = interaction;
      const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const grant = interaction.grantId
        ? (await provider.Grant.find(interaction.grantId))!
        : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return interaction.grantId ? undefined : grantId;
    },

    clientName: async (clientId) => (await current().Client.find(clientId))?.clientName,
    clientMetadata: async (clientId) => (await current().Client.find(clientId))?.metadata() as Record<string, unknown> | undefined,
    browserSession: (ctx) => browserSession(current(), ctx),
    signedInAccountId: async (ctx) => (await browserSession(current(), ctx)).accountId,
    sessionByUid: (uid) => sessionByUid(current(), uid),

    async findAccessToken(value) {
      const token = await current().AccessToken.find(value);
      if (!token) return undefined;
      return {
        jti: token.jti, accountId: token.accountId, clientId: token.clientId, scope: token.scope, grantId: token.grantId,
        isExpired: token.isExpired, boundElsewhere: boundElsewhere(token),
        extra: (token.extra ?? {}) as Record<string, unknown>,
      };
    },
    async findGrant(grantId) {
      const grant = await current().Grant.find(grantId);
      return grant ? { accountId: grant.accountId, clientId: grant.clientId, destroy: () => grant.destroy() } : undefined;
    },
    async destroyAuthorizationCode(value, clientId) {
      const code = await current().AuthorizationCode.find(value);
      if (code?.clientId === clientId) await code.destroy();
    },

    mintAccessToken: (input) => mintAccessToken(current(), input),
    openSupportSession: (ctx, input) => openSupportSession(current(), ctx, { ...input, cookie: opts.sessionCookie ?? { httpOnly: true, sameSite: 'lax', signed: true } }),
    routes: PROVIDER_ROUTES,
  };
}
