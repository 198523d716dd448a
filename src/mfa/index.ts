// Second factors of an account, together.
import type { SecretBox } from '../security/secretbox.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import { createTotp } from './totp.ts';
import { createRecoveryCodes } from './recovery-codes.ts';
import { createWebAuthn } from './webauthn.ts';
import { createTotpRepo, type TotpRepo } from './totp.repo.ts';
import { createRecoveryCodeRepo, type RecoveryCodeRepo } from './recovery-code.repo.ts';
import { createPasskeyRepo, type PasskeyRepo } from './passkey.repo.ts';

export interface MfaRepos { totp: TotpRepo; recoveryCodes: RecoveryCodeRepo; passkeys: PasskeyRepo }

/** The three factor tables' repositories, over one database handle. */
export function createMfaRepos(db: Parameters<typeof createTotpRepo>[0]): MfaRepos {
  return { totp: createTotpRepo(db), recoveryCodes: createRecoveryCodeRepo(db), passkeys: createPasskeyRepo(db) };
}

export function createMfa(deps: { repos: MfaRepos; transactions: Transactions; box: SecretBox; adapters: AdapterFactory; issuer: string; productName: string }) {
  const { repos, transactions } = deps;
  const totp = createTotp({ repo: repos.totp, transactions, box: deps.box, issuerName: deps.productName });
  const recovery = createRecoveryCodes({ repo: repos.recoveryCodes, transactions });
  const webauthn = createWebAuthn({ repo: repos.passkeys, adapters: deps.adapters, issuer: deps.issuer, rpName: deps.productName });
  return {
    totp, recovery, webauthn,
    /** Which second factors the account has enrolled. */
    async factors(userId: string): Promise<{ totp: boolean; passkeys: number; any: boolean }> {
      const [t, p] = await Promise.all([totp.status(userId), webauthn.count(userId)]);
      return { totp: t === 'active', passkeys: p, any: t === 'active' || p > 0 };
    },
    /** Removes every factor (admin "reset MFA"); `trx`: the admin change's transaction. */
    async reset(userId: string, trx?: Queryable): Promise<void> {
      await totp.remove(userId, trx);
      await recovery.remove(userId, trx);
      await webauthn.removeAll(userId, trx);
    },
  };
}
export type Mfa = ReturnType<typeof createMfa>;
