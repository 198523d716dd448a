// Accounts, as the provider asks for them (src/oidc/ports.ts): findAccount, introspection, the
// device page and the token-exchange grant.
import type { AccountsPort, OidcAccount } from '../oidc/ports.ts';
import type { AccountCache } from './account-cache.ts';
import type { UserRow } from './account.repo.ts';
import { accountClaims, type AccountService } from './account.service.ts';

function forOidc(user: UserRow): OidcAccount {
  return { id: user.id, email: user.email, roles: user.roles, disabled: !!user.disabled_at, claims: () => accountClaims(user) };
}

/** `cache`: the node's account cache, so refresh, userinfo and introspection cost no query for a known account. */
export function accountsForOidc(accounts: Pick<AccountService, 'findById'>, cache: Pick<AccountCache, 'findActive'>): AccountsPort {
  return {
    findActive: async (id) => { const user = await cache.findActive(id); return user && forOidc(user); },
    findById: async (id) => { const user = await accounts.findById(id); return user && forOidc(user); },
  };
}
