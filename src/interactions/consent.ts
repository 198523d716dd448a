// Consent: show the app and what it asks for in plain words; record the grant, remembered per client.
import type { Context } from 'koa';
import { clientName, finish, loadInteraction, page, type Details, type InteractionDeps } from './context.ts';

export const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name, picture and language',
  email: 'See your email address',
  offline_access: 'Stay signed in while you are away',
  roles: 'See your roles',
  admin: 'Administer Gatehouse as you',
  workspace: 'See your active workspace and your role in it',
  workspaces: 'See the workspaces you belong to',
};

export function createConsentHandlers(deps: InteractionDeps) {
  return {
    async show(ctx: Context, details: Details) {
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const scopes = [...new Set([...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()])];
      const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
      page(deps, ctx, 'consent', {
        title: 'Allow access',
        clientName: await clientName(deps, details.params.client_id),
        accountEmail: account?.email,
        scopes: scopes.map((s) => ({ name: s, description: SCOPE_TEXT[s] ?? `Use the "${s}" permission` })),
        action: `/interaction/${details.uid}/confirm`,
        abortUrl: `/interaction/${details.uid}/abort`,
      });
    },

    async confirm(ctx: Context) {
      const details = await loadInteraction(deps, ctx, 'consent');
      const provider = deps.provider();
      const { prompt, params, session } = details;
      const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await finish(deps, ctx, { consent: details.grantId ? {} : { grantId } }, true);
    },

    async abort(ctx: Context) {
      await loadInteraction(deps, ctx);
      await finish(deps, ctx, { error: 'access_denied', error_description: 'The user declined the request.' }, false);
    },
  };
}
