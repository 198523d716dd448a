// Ten single-use recovery codes, shown once and stored as SHA-256 hashes (they carry 50 bits of
// entropy each and are rate-limited like every credential, so a fast hash is enough).
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i
const CODE_LENGTH = 10; // 31^10 ≈ 2^49.5

const hash = (code: string) => createHash('sha256').update(normalize(code)).digest('hex');
const normalize = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

function newCode(): string {
  const raw = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

export function createRecoveryCodes(deps: { knex: Knex }) {
  const { knex } = deps;
  return {
    /** Replaces any previous set; returns the codes (the only time they exist in clear). */
    async regenerate(userId: string, trx: Knex = knex): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
      await trx('recovery_codes').where({ user_id: userId }).delete();
      await trx('recovery_codes').insert(codes.map((c) => ({ user_id: userId, code_hash: hash(c) })));
      return codes;
    },
    async remaining(userId: string): Promise<number> {
      const [{ n }] = await knex('recovery_codes').where({ user_id: userId }).whereNull('used_at').count({ n: '*' }) as Array<{ n: string }>;
      return Number(n);
    },
    /** Uses a code once. */
    async redeem(userId: string, code: string): Promise<boolean> {
      const wanted = Buffer.from(hash(code));
      return knex.transaction(async (trx) => {
        const rows = await trx('recovery_codes').where({ user_id: userId }).whereNull('used_at').forUpdate();
        const match = rows.find((r) => timingSafeEqual(Buffer.from(r.code_hash), wanted));
        if (!match) return false;
        await trx('recovery_codes').where({ id: match.id }).update({ used_at: trx.fn.now() });
        return true;
      });
    },
    async remove(userId: string, trx: Knex = knex): Promise<void> {
      await trx('recovery_codes').where({ user_id: userId }).delete();
    },
  };
}
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
