// TOTP (RFC 6238) through otplib: secrets sealed at rest, enrolment confirmed with a first code,
// each code accepted once (the last used time step is kept).
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { SecretBox } from '../security/secretbox.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import type { TotpRepo } from './totp.repo.ts';

/** One step of clock drift either way (RFC 6238 §5.2 recommends at most one). */
const EPOCH_TOLERANCE_SECONDS = 30;

export function createTotp(deps: { repo: TotpRepo; transactions: Transactions; box: SecretBox; issuerName: string }) {
  const { repo, box } = deps;
  return {
    async status(userId: string): Promise<'none' | 'pending' | 'active'> {
      const row = await repo.find(userId);
      return !row ? 'none' : row.confirmed_at ? 'active' : 'pending';
    },

    /** Starts (or restarts) enrolment: a new secret, not active until confirmed. */
    async begin(userId: string, label: string): Promise<{ secret: string; uri: string; qrDataUrl: string }> {
      const existing = await repo.find(userId);
      if (existing?.confirmed_at) throw new Error('TOTP is already active');
      const secret = generateSecret();
      await repo.putPending(userId, box.seal(secret));
      const uri = generateURI({ issuer: deps.issuerName, label, secret });
      return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
    },

    async pendingSecret(userId: string): Promise<{ secret: string; uri: string; qrDataUrl: string } | undefined> {
      const row = await repo.findPending(userId);
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
      return deps.transactions.run(async (trx) => {
        const row = await repo.findForUpdate(userId, trx);
        if (!row || (!row.confirmed_at && !opts.confirming) || (row.confirmed_at && opts.confirming)) return false;
        const result = await verify({ secret: box.open(row.secret_encrypted), token, epochTolerance: EPOCH_TOLERANCE_SECONDS });
        if (!result.valid) return false;
        const step = (result as { timeStep?: number }).timeStep ?? Math.floor(Date.now() / 30_000);
        if (row.last_used_step != null && step <= Number(row.last_used_step)) return false; // replay
        await repo.markUsed(userId, step, { confirm: !!opts.confirming }, trx);
        return true;
      });
    },

    remove: (userId: string, trx?: Queryable): Promise<void> => repo.remove(userId, trx),
  };
}
export type Totp = ReturnType<typeof createTotp>;
