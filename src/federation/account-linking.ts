// Who an upstream sign-in is, here — in one transaction, so a refusal leaves nothing half-made:
//   1. the identity (provider, upstream subject) is the only key ever used to find an account again;
//   2. else an account with the same email is linked automatically only when the provider is trusted
//      for email, the upstream says email_verified, the local email is verified too, and exactly one
//      account matches (emails are unique here) — the account-takeover rules of issue 14;
//   3. else such an account must be proven by signing in to it (password and second factor) first;
//      an unverified local account never receives the identity;
//   4. else, when the provider may create accounts, one is provisioned from the upstream's claims.
import { randomUUID } from 'node:crypto';
import type { AccountRepo, UserRow } from '../accounts/account.repo.ts';
import { normalizeEmail } from '../accounts/email.ts';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { Transactions, Tx } from '../storage/transactions.ts';
import type { IdentityRepo } from '../upstream/identity.repo.ts';
import type { OrgSync } from './org-sync.ts';
import { domainAllowed, type FlowProvider } from './flow-provider.ts';
import { UpstreamFailure, type UpstreamProfile } from './upstream-client.ts';

export type Resolution =
  | { kind: 'signed_in'; user: UserRow; created: boolean; linked: boolean }
  /** an account with this email exists: its owner must sign in to it before the identity is linked */
  | { kind: 'prove'; user: UserRow }
  /** an account with this email exists whose email was never verified: it never receives the identity */
  | { kind: 'unverified_account' };

export interface LinkingDeps {
  transactions: Transactions;
  users: Pick<AccountRepo, 'findById' | 'findByEmail' | 'insert'>;
  identities: Pick<IdentityRepo, 'findByProviderSubject' | 'insert' | 'touchSignIn'>;
  audit: Audit;
  orgSync: Pick<OrgSync, 'sync' | 'committed'>;
}

type Origin = Pick<AuditEvent, 'ip' | 'userAgent'>;

/** Upstream text in our columns: trimmed, bounded, or nothing. */
const field = (v: string | undefined, max: number) => (v && v.trim() ? v.trim().slice(0, max) : null);
const pictureUrl = (v: string | undefined) => (v && /^https?:\/\//i.test(v) && v.length <= 2000 ? v : null);

export function createAccountLinking(deps: LinkingDeps) {
  const { users, identities, audit } = deps;

  async function link(tx: Tx, p: FlowProvider, profile: UpstreamProfile, user: UserRow, origin: Origin, how: 'automatic' | 'proven' | 'provisioned' | 'account') {
    await identities.insert({ provider: p.name, subject: profile.subject, user_id: user.id, email: profile.email ?? null, last_sign_in_at: new Date() }, tx);
    await audit.record({ type: 'identity.linked', actorId: user.id, subjectId: user.id, ...origin, data: { provider: p.name, subject: profile.subject, how } }, tx);
  }

  const sync = (tx: Tx, p: FlowProvider, profile: UpstreamProfile, userId: string) =>
    deps.orgSync.sync(tx, { userId, provider: { name: p.name, settings: p.settings as never }, claims: profile.claims });

  return {
    async resolve(p: FlowProvider, profile: UpstreamProfile, origin: Origin): Promise<Resolution> {
      if (!domainAllowed(p, profile.email)) throw new UpstreamFailure('domain_not_allowed', 'email domain not allowed');
      const trusted = p.trustEmailVerified && profile.emailVerified;
      const result = await deps.transactions.run(async (tx): Promise<Resolution> => {
        const identity = await identities.findByProviderSubject(p.name, profile.subject, tx);
        if (identity) {
          const user = await users.findById(identity.user_id, tx);
          if (!user || user.disabled_at) throw new UpstreamFailure('disabled', 'account disabled');
          await identities.touchSignIn(identity.id, profile.email ?? null, tx);
          await sync(tx, p, profile, user.id);
          return { kind: 'signed_in', user, created: false, linked: false };
        }
        if (!profile.email) throw new UpstreamFailure('no_email', 'the upstream gave no email');
        const existing = await users.findByEmail(normalizeEmail(profile.email), tx);
        if (existing) {
          if (!existing.email_verified) return { kind: 'unverified_account' };
          if (trusted && !existing.disabled_at) {
            await link(tx, p, profile, existing, origin, 'automatic');
            await sync(tx, p, profile, existing.id);
            return { kind: 'signed_in', user: existing, created: false, linked: true };
          }
          return { kind: 'prove', user: existing };
        }
        if (!p.allowSignup) throw new UpstreamFailure('signup_not_allowed', 'the provider may not create accounts');
        // Never an account under an address the upstream did not vouch for (or that we don't believe
        // it on): whoever owns that mailbox could later take the account over by a password reset
        // and find the stranger's upstream identity still linked to it (pre-account takeover).
        if (!trusted) throw new UpstreamFailure('email_not_trusted', 'upstream email not verified or not trusted');
        const user = await users.insert({
          id: randomUUID(),
          email: profile.email,
          email_normalized: normalizeEmail(profile.email),
          email_verified: true, // trusted: see above
          password_hash: null,
          name: field(profile.name, 200),
          given_name: field(profile.givenName, 200),
          family_name: field(profile.familyName, 200),
          picture: pictureUrl(profile.picture),
          locale: field(profile.locale, 35),
          roles: [],
        }, tx);
        await audit.record({ type: 'user.created', actorId: user.id, subjectId: user.id, ...origin, data: { source: 'upstream', provider: p.name } }, tx);
        await link(tx, p, profile, user, origin, 'provisioned');
        await sync(tx, p, profile, user.id);
        return { kind: 'signed_in', user, created: true, linked: true };
      });
      if (result.kind === 'signed_in') deps.orgSync.committed(result.user.id);
      return result;
    },

    /**
     * Links an identity to an account whose owner has just proven it (signed in to it, or is signed
     * in on /account). False when the identity belongs to someone already or the account may not
     * receive it (unverified email, disabled).
     */
    async linkProven(p: FlowProvider, profile: UpstreamProfile, userId: string, origin: Origin, how: 'proven' | 'account'): Promise<'linked' | 'already' | 'taken' | 'refused'> {
      const outcome = await deps.transactions.run(async (tx) => {
        const identity = await identities.findByProviderSubject(p.name, profile.subject, tx);
        if (identity) return identity.user_id === userId ? 'already' as const : 'taken' as const;
        const user = await users.findById(userId, tx);
        if (!user || user.disabled_at) return 'refused' as const;
        // a proof by password of an account whose email nobody verified proves nothing about the mailbox
        if (how === 'proven' && !user.email_verified) return 'refused' as const;
        await link(tx, p, profile, user, origin, how);
        await sync(tx, p, profile, user.id);
        return 'linked' as const;
      });
      if (outcome === 'linked') deps.orgSync.committed(userId);
      return outcome;
    },
  };
}
export type AccountLinking = ReturnType<typeof createAccountLinking>;
