// Signing in through upstream providers, built once in src/root.ts: the openid-client side, the
// browser-bound flow records, linking and provisioning, and the port the hosted sign-in uses.
import type { AccountRepo } from '../accounts/account.repo.ts';
import type { Audit } from '../audit/audit.ts';
import type { ProviderFacade } from '../oidc/facade.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { IdentityRepo } from '../upstream/identity.repo.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import { createAccountLinking } from './account-linking.ts';
import { createFlowState } from './flow-state.ts';
import type { OrgSync } from './org-sync.ts';
import { createPendingLinks } from './pending-links.ts';
import { createUpstreamClient } from './upstream-client.ts';
import { createUpstreamPort } from './upstream-port.ts';
import { createUpstreamLogout } from './upstream-logout.ts';

export interface FederationDeps {
  issuer: string;
  providers: ProviderService;
  identities: IdentityRepo;
  users: AccountRepo;
  transactions: Transactions;
  audit: Audit;
  orgSync: OrgSync;
  adapters: AdapterFactory;
  oidc: ProviderFacade;
  /** how long a hosted session lives (the upstream ID token for signing out there lives as long) */
  sessionTtlSeconds: number;
  /** tests only: reach local stand-ins in-process */
  fetch?: typeof fetch;
}

export function createFederation(deps: FederationDeps) {
  const upstreamClient = createUpstreamClient({ callbackUrl: (name) => `${deps.issuer}/providers/${name}/callback`, fetch: deps.fetch });
  const flow = createFlowState({ adapters: deps.adapters, secure: deps.issuer.startsWith('https:') });
  const linking = createAccountLinking({ transactions: deps.transactions, users: deps.users, identities: deps.identities, audit: deps.audit, orgSync: deps.orgSync });
  const pendingLinks = createPendingLinks(deps.adapters);
  const port = createUpstreamPort({ providers: deps.providers, oidc: deps.oidc, linking, pendingLinks });
  const upstreamLogout = createUpstreamLogout({
    issuer: deps.issuer, adapters: deps.adapters, providers: deps.providers, upstreamClient, oidc: deps.oidc, sessionTtlSeconds: deps.sessionTtlSeconds,
  });
  return { upstreamClient, flow, linking, pendingLinks, port, upstreamLogout, providers: deps.providers };
}
export type Federation = ReturnType<typeof createFederation>;
