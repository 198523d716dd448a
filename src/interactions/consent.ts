// Consent: show the app and what it asks for in plain words; record the grant, remembered per client.
// Abort: the "Cancel" of every page that asks something (sign-in, workspace picker, consent) ends
// the request with access_denied for the app.
import type { Context } from 'koa';
import { appView, finish, loadInteraction, PROMPTS, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';
import { scopeLine } from '../render/scope-lines.ts';
import { WRITE_SCOPE_TEXT } from '../oidc/scopes.ts';

export function createConsentHandlers(deps: InteractionHandlerDeps) {
  return {
    async show(ctx: Context, details: Details) {
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const missing = [...new Set([...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()])];
      // prompt=consent with everything already granted (e.g. offline_access asked again): show what is asked
      const scopes = missing.length ? missing : String(details.params.scope ?? '').split(' ').filter(Boolean);
      const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
      const app = await appView(deps, ctx, details);
      const t = translatorFor(deps, ctx);
      // the plain words of each scope: `scopes:<scope>` keys, ':' → '_' (src/render/scope-lines.ts)
      const line = (s: string) => scopeLine(deps.views.i18n, t, s, deps.views.brand.name);
      deps.page(ctx, 'consent', {
        title: t('signin:consent.title'),
        app,
        clientName: app.clientName,
        accountEmail: account?.email,
        scopes: scopes.filter((s) => !(s in WRITE_SCOPE_TEXT)).map(line),
        changes: scopes.filter((s) => s in WRITE_SCOPE_TEXT).map(line),
        action: `/interaction/${details.uid}/confirm`,
        abortUrl: `/interaction/${details.uid}/abort`,
      });
    },

    async confirm(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.consent);
      // the grant remembers the consent per client; a new one is named in the result
      const grantId = await deps.oidc.grantConsent(details);
      await finish(deps, ctx, { consent: grantId ? { grantId } : {} }, true);
    },

    async abort(ctx: Context) {
      // the prompts whose pages carry the Cancel link
      await loadInteraction(deps, ctx, [PROMPTS.login, PROMPTS.workspace, PROMPTS.consent]);
      await finish(deps, ctx, { error: 'access_denied', error_description: 'The user declined the request.' }, false);
    },
  };
}
