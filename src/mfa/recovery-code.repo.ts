// recovery_codes: the hashes of an account's single-use recovery codes.
import type { Knex } from 'knex';
import type { Queryable, Tx } from '../storage/transactions.ts';

export interface RecoveryCodeRow { id: string; user_id: string; code_hash: string; used_at: Date | null }

export function createRecoveryCodeRepo(knex: Knex) {
  return {
    /** Replaces the account's codes with these hashes. */
    async replace(userId: string, codeHashes: string[], db: Queryable = knex): Promise<void> {
      await db('recovery_codes').where({ user_id: userId }).delete();
      await db('recovery_codes').insert(codeHashes.map((h) => ({ user_id: userId, code_hash: h })));
    },
    async countUnused(userId: string, db: Queryable = knex): Promise<number> {
      const [{ n }] = await db('recovery_codes').where({ user_id: userId }).whereNull('used_at').count({ n: '*' }) as Array<{ n: string }>;
      return Number(n);
    },
    /** The unused codes, locked until `tx` ends (a code is used once, even by two requests at once). */
    unusedForUpdate: (userId: string, tx: Tx): Promise<RecoveryCodeRow[]> =>
      tx<RecoveryCodeRow>('recovery_codes').where({ user_id: userId }).whereNull('used_at').forUpdate(),
    async markUsed(id: string, db: Queryable = knex): Promise<void> {
      await db('recovery_codes').where({ id }).update({ used_at: db.fn.now() });
    },
    async removeAll(userId: string, db: Queryable = knex): Promise<void> {
      await db('recovery_codes').where({ user_id: userId }).delete();
    },
  };
}
export type RecoveryCodeRepo = ReturnType<typeof createRecoveryCodeRepo>;
