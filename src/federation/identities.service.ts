// The upstream identities linked to an account, as its owner sees and manages them on
// /account/identities: the list (with each provider's name and icon), the providers not linked yet,
// and unlinking — never the last way to sign in.
//
// "A way to sign in" is a password or an identity at an enabled provider. A passkey is not one here: passkeys are
// second factors in Gatehouse (there is no passkey-only sign-in yet), so an account whose last
// identity went away with only a passkey left could not sign in at all.
import type { AccountRepo } from '../accounts/account.repo.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { IdentityRepo, IdentityRow } from '../upstream/identity.repo.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import { PRESETS, isProviderKind } from '../upstream/presets.ts';

export interface LinkedIdentityView {
  id: string;
  provider: string;
  display_name: string;
  /** an inline SVG from the presets, or null (then `icon`, an /assets path, or nothing) */
  icon_svg: string | null;
  icon: string | null;
  email: string | null;
  linked_at: Date;
  last_sign_in_at: Date | null;
  /** may it be unlinked now (another way to sign in remains) */
  removable: boolean;
  /** the provider is enabled: this identity signs the user in now */
  usable: boolean;
}

export interface LinkableProviderView { name: string; display_name: string; icon_svg: string | null; icon: string | null }

export interface IdentitiesOverview {
  linked: LinkedIdentityView[];
  /** enabled providers the account has no identity at */
  linkable: LinkableProviderView[];
  hasPassword: boolean;
}

export type UnlinkOutcome = { ok: true; provider: string } | { ok: false; reason: 'not_found' | 'last_way' };

type Origin = Pick<AuditEvent, 'ip' | 'userAgent'>;

export interface IdentitiesDeps {
  transactions: Transactions;
  identities: Pick<IdentityRepo, 'listForUser' | 'remove'>;
  providers: Pick<ProviderService, 'list'>;
  users: Pick<AccountRepo, 'findById'>;
  audit: Audit;
}

/** Whether another way in remains without identity `id`: the password, or another identity at an
 * enabled provider (one at a disabled provider signs nobody in). */
const otherWayThan = (id: string, hasPassword: boolean, rows: readonly IdentityRow[], enabled: ReadonlySet<string>) =>
  hasPassword || rows.some((r) => r.id !== id && enabled.has(r.provider));

export function createIdentities(deps: IdentitiesDeps) {
  const { transactions, identities, audit } = deps;

  return {
    async overview(userId: string): Promise<IdentitiesOverview> {
      const [user, rows, providers] = await Promise.all([deps.users.findById(userId), identities.listForUser(userId), deps.providers.list()]);
      const hasPassword = Boolean(user?.password_hash);
      const byName = new Map(providers.map((p) => [p.name, p]));
      const looks = (name: string) => {
        const p = byName.get(name);
        const kind = p && isProviderKind(p.kind) ? p.kind : 'oidc';
        return { display_name: p?.display_name ?? name, icon: p?.icon ?? null, icon_svg: p?.icon ? null : PRESETS[kind].icon };
      };
      const enabled = new Set(providers.filter((p) => p.enabled).map((p) => p.name));
      const linkedNames = new Set(rows.map((r) => r.provider));
      return {
        hasPassword,
        linked: rows.map((r) => ({
          id: r.id, provider: r.provider, ...looks(r.provider), email: r.email, linked_at: r.created_at, last_sign_in_at: r.last_sign_in_at,
          removable: otherWayThan(r.id, hasPassword, rows, enabled), usable: enabled.has(r.provider),
        })),
        linkable: providers
          .filter((p) => p.enabled && !linkedNames.has(p.name))
          .sort((a, b) => a.order - b.order || a.display_name.localeCompare(b.display_name) || a.name.localeCompare(b.name))
          .map((p) => ({ name: p.name, ...looks(p.name) })),
      };
    },

    /** The identity `id` of this user, or undefined (someone else's looks the same as none). */
    async find(userId: string, id: string): Promise<LinkedIdentityView | undefined> {
      return (await this.overview(userId)).linked.find((i) => i.id === id);
    },

    /**
     * Removes the identity unless it is the last way to sign in. The user's identities are read
     * under a row lock, so two unlinks at once cannot each leave the other as the last one.
     */
    async unlink(userId: string, id: string, origin: Origin): Promise<UnlinkOutcome> {
      // read before the transaction: the registry reads outside it (one connection on PGlite)
      const enabled = new Set((await deps.providers.list()).filter((p) => p.enabled).map((p) => p.name));
      return transactions.run(async (tx) => {
        const rows = await identities.listForUser(userId, tx, { lock: true });
        const target = rows.find((r) => r.id === id);
        if (!target) return { ok: false, reason: 'not_found' } as const;
        const user = await deps.users.findById(userId, tx);
        if (!otherWayThan(id, Boolean(user?.password_hash), rows, enabled)) return { ok: false, reason: 'last_way' } as const;
        await identities.remove(userId, target.provider, target.subject, tx);
        await audit.record({ type: 'identity.unlinked', actorId: userId, subjectId: userId, ...origin, data: { provider: target.provider, subject: target.subject } }, tx);
        return { ok: true, provider: target.provider } as const;
      });
    },
  };
}
export type Identities = ReturnType<typeof createIdentities>;
