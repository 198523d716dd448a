// Second factors of an account, together.
import type { Knex } from 'knex';
import type { SecretBox } from '../security/secretbox.ts';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import { createTotp } from './totp.ts';
import { createRecoveryCodes } from './recovery-codes.ts';
import { createWebAuthn } from './webauthn.ts';

export function createMfa(deps: { knex: Knex; box: SecretBox; adapters: AdapterFactory; issuer: string; productName: string }) {
  const totp = createTotp({ knex: deps.knex, box: deps.box, issuerName: deps.productName });
  const recovery = createRecoveryCodes({ knex: deps.knex });
  const webauthn = createWebAuthn({ knex: deps.knex, adapters: deps.adapters, issuer: deps.issuer, rpName: deps.productName });
  return {
    totp, recovery, webauthn,
    /** Which second factors the account has enrolled. */
    async factors(userId: string): Promise<{ totp: boolean; passkeys: number; any: boolean }> {
      const [t, p] = await Promise.all([totp.status(userId), webauthn.count(userId)]);
      return { totp: t === 'active', passkeys: p, any: t === 'active' || p > 0 };
    },
    /** Removes every factor (admin "reset MFA"). */
    async reset(userId: string, trx: Knex = deps.knex): Promise<void> {
      await totp.remove(userId, trx);
      await recovery.remove(userId, trx);
      await webauthn.removeAll(userId, trx);
    },
  };
}
export type Mfa = ReturnType<typeof createMfa>;
