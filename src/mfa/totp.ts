// TOTP (RFC 6238) through otplib: secrets sealed at rest, enrolment confirmed with a first code,
// each code accepted once (the last used time step is kept).
import type { Knex } from 'knex';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { SecretBox } from '../security/secretbox.ts';

/** One step of clock drift either way (RFC 6238 §5.2 recommends at most one). */
const EPOCH_TOLERANCE_SECONDS = 30;

export function createTotp(deps: { knex: Knex; box: SecretBox; issuerName: string }) {
  const { knex, box } = deps;
  return {
    async status(userId: string): Promise<'none' | 'pending' | 'active'> {
      const row = await knex('mfa_totp').where({ user_id: userId }).first();
      return !row ? 'none' : row.confirmed_at ? 'active' : 'pending';
    },

    /** Starts (or restarts) enrolment: a new secret, not active until confirmed. */
    async begin(userId: string, label: string): Promise<{ secret: string; uri: string; qrDataUrl: string }> {
      const existing = await knex('mfa_totp').where({ user_id: userId }).first();
      if (existing?.confirmed_at) throw new Error('TOTP is already active');
      const secret = generateSecret();
      await knex('mfa_totp').insert({ user_id: userId, secret_encrypted: box.seal(secret), confirmed_at: null, last_used_step: null })
        .onConflict('user_id').merge();
      const uri = generateURI({ issuer: deps.issuerName, label, secret });
      return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
    },

    async pendingSecret(userId: string): Promise<{ secret: string; uri: string; qrDataUrl: string } | undefined> {
      const row = await knex('mfa_totp').where({ user_id: userId }).whereNull('confirmed_at').first();
      if (!row) return undefined;
      const secret = box.open(row.secret_encrypted);
      const uri = generateURI({ issuer: deps.issuerName, label: '', secret });
      return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
    },

    /**
     * Checks a code. For a pending enrolment, a right code activates it. Returns false for a
     * wrong code or a code already used.
     */
    async check(userId: string, code: string, opts: { confirming?: boolean } = {}): Promise<boolean> {
      const token = code.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(token)) return false;
      return knex.transaction(async (trx) => {
        const row = await trx('mfa_totp').where({ user_id: userId }).forUpdate().first();
        if (!row || (!row.confirmed_at && !opts.confirming) || (row.confirmed_at && opts.confirming)) return false;
        const result = await verify({ secret: box.open(row.secret_encrypted), token, epochTolerance: EPOCH_TOLERANCE_SECONDS });
        if (!result.valid) return false;
        const step = (result as { timeStep?: number }).timeStep ?? Math.floor(Date.now() / 30_000);
        if (row.last_used_step != null && step <= Number(row.last_used_step)) return false; // replay
        await trx('mfa_totp').where({ user_id: userId }).update({ last_used_step: step, ...(opts.confirming ? { confirmed_at: trx.fn.now() } : {}) });
        return true;
      });
    },

    async remove(userId: string, trx: Knex = knex): Promise<void> {
      await trx('mfa_totp').where({ user_id: userId }).delete();
    },
  };
}
export type Totp = ReturnType<typeof createTotp>;
