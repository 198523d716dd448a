// Ten single-use recovery codes, shown once and stored as SHA-256 hashes (they carry 50 bits of
// entropy each and are rate-limited like every credential, so a fast hash is enough).
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import type { RecoveryCodeRepo } from './recovery-code.repo.ts';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i
const CODE_LENGTH = 10; // 31^10 ≈ 2^49.5

const hash = (code: string) => createHash('sha256').update(normalize(code)).digest('hex');
const normalize = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

function newCode(): string {
  const raw = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

export function createRecoveryCodes(deps: { repo: RecoveryCodeRepo; transactions: Transactions }) {
  const { repo } = deps;
  return {
    /** Replaces any previous set; returns the codes (the only time they exist in clear). */
    async regenerate(userId: string, trx?: Queryable): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
      await repo.replace(userId, codes.map(hash), trx);
      return codes;
    },
    remaining: (userId: string): Promise<number> => repo.countUnused(userId),
    /** Uses a code once. */
    async redeem(userId: string, code: string): Promise<boolean> {
      const wanted = Buffer.from(hash(code));
      return deps.transactions.run(async (trx) => {
        const rows = await repo.unusedForUpdate(userId, trx);
        const match = rows.find((r) => timingSafeEqual(Buffer.from(r.code_hash), wanted));
        if (!match) return false;
        await repo.markUsed(match.id, trx);
        return true;
      });
    },
    remove: (userId: string, trx?: Queryable): Promise<void> => repo.removeAll(userId, trx),
  };
}
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
