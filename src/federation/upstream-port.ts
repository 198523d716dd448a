// The hosted sign-in's view of upstream providers (the port src/interactions/interaction-deps.ts
// defines): the "Continue with …" buttons an app offers, idp=<name> and home-realm discovery, and
// the link of an upstream identity once its owner proved the existing account by signing in to it.
import type { Context } from 'koa';
import { requestOrigin } from '../audit/audit.ts';
import type { Details, UpstreamSignIn } from '../interactions/interaction-deps.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import type { AccountLinking } from './account-linking.ts';
import { emailDomain, offeredTo, toFlowProvider } from './flow-provider.ts';
import type { PendingLinks } from './pending-links.ts';

export interface UpstreamPortDeps {
  providers: Pick<ProviderService, 'get' | 'offeredTo' | 'byEmailDomain'>;
  oidc: Pick<ProviderFacade, 'clientMetadata'>;
  linking: AccountLinking;
  pendingLinks: PendingLinks;
}

const startUrl = (uid: string, name: string) => `/interaction/${uid}/upstream/${name}`;
const clientOf = (details: Details) => (typeof details.params.client_id === 'string' ? details.params.client_id : '');

export function createUpstreamPort(deps: UpstreamPortDeps): UpstreamSignIn {
  return {
    async loginView(details) {
      const clientId = clientOf(details);
      const [offered, client, pending] = await Promise.all([
        deps.providers.offeredTo(clientId), deps.oidc.clientMetadata(clientId), deps.pendingLinks.find(details.uid),
      ]);
      // the pending link came through a provider this app offers (the flow checked): its name is in
      // `offered` — no second read of the registry, and no opening of its secret for a label
      const linkingProvider = pending ? offered.find((p) => p.name === pending.provider)?.display_name ?? pending.provider : undefined;
      return {
        buttons: offered.map((p) => ({ name: p.name, displayName: p.display_name, icon: p.icon_svg ?? undefined, url: startUrl(details.uid, p.name) })),
        // an app that offers upstream providers only (password_sign_in: false in its registration)
        passwordSignIn: client?.password_sign_in !== false || offered.length === 0,
        linking: pending && linkingProvider ? { provider: linkingProvider, email: pending.profile.email ?? '' } : undefined,
      };
    },

    async redirectFor(details, email) {
      const clientId = clientOf(details);
      if (email === undefined) {
        const idp = details.params.idp;
        if (typeof idp !== 'string' || !/^[a-z0-9-]{2,63}$/.test(idp)) return undefined;
        const config = await deps.providers.get(idp);
        return config && offeredTo(toFlowProvider(config), clientId) ? startUrl(details.uid, idp) : undefined;
      }
      // proving an account for a pending link is a password sign-in, never a trip upstream
      if (!email.includes('@') || await deps.pendingLinks.find(details.uid)) return undefined;
      const found = await deps.providers.byEmailDomain(emailDomain(email), clientId);
      return found ? startUrl(details.uid, found.name) : undefined;
    },

    async signedIn(ctx: Context, details, accountId) {
      const pending = await deps.pendingLinks.find(details.uid);
      if (!pending) return;
      await deps.pendingLinks.drop(details.uid);
      // only the account the email named: signing in to another account links nothing
      if (pending.targetUserId !== accountId) return;
      const config = await deps.providers.get(pending.provider);
      if (!config || !config.enabled) return; // switched off meanwhile: nothing links through it
      await deps.linking.linkProven(toFlowProvider(config), pending.profile, accountId, requestOrigin(ctx), 'proven');
    },
  };
}
