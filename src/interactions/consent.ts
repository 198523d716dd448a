// Consent: show the app and what it asks for in plain words; record the grant, remembered per client.
import type { Context } from 'koa';
import { clientName, finish, loadInteraction, page, type Details, type InteractionDeps } from './interaction-deps.ts';

export const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name, picture and language',
  email: 'See your email address',
  offline_access: 'Stay signed in while you are away',
  roles: 'See your roles',
  workspace: 'See your active workspace and your role in it, and switch to another of your workspaces',
  workspaces: 'See the workspaces you belong to',
};

/** The write scopes (src/oidc/claims.ts WRITE_SCOPES), listed apart on the page as changes. */
export const WRITE_SCOPE_TEXT: Record<string, string> = {
  'profile:write': 'Change your name, picture and language',
  'workspace:manage': 'Create, rename and delete your workspaces, and add, remove and invite their members, as far as your role in each allows',
  admin: 'Administer Gatehouse as you: change other people\'s accounts, apps and settings (only while you are an administrator)',
};

/** One line for a scope, in plain words (write scopes say what they change). */
export function scopeDescription(scope: string): string {
  return WRITE_SCOPE_TEXT[scope] ?? SCOPE_TEXT[scope] ?? `Use the "${scope}" permission`;
}

export function createConsentHandlers(deps: InteractionDeps) {
  return {
    async show(ctx: Context, details: Details) {
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const missing = [...new Set([...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()])];
      // prompt=consent with everything already granted (e.g. offline_access asked again): show what is asked
      const scopes = missing.length ? missing : String(details.params.scope ?? '').split(' ').filter(Boolean);
      const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
      page(deps, ctx, 'consent', {
        title: 'Allow access',
        clientName: await clientName(deps, details.params.client_id),
        accountEmail: account?.email,
        scopes: scopes.filter((s) => !(s in WRITE_SCOPE_TEXT)).map((s) => ({ name: s, description: scopeDescription(s) })),
        changes: scopes.filter((s) => s in WRITE_SCOPE_TEXT).map((s) => ({ name: s, description: scopeDescription(s) })),
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
