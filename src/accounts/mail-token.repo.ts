// user_tokens: the single-use tokens sent by mail (src/accounts/mail-tokens.ts makes and checks
// them; only their hashes are stored here).
import type { Knex } from 'knex';
import type { Queryable, Tx } from '../storage/transactions.ts';

export type TokenPurpose = 'verify_email' | 'reset_password' | 'change_email';

export interface MailTokenRow {
  id: string;
  user_id: string;
  purpose: TokenPurpose;
  token_hash: string;
  code_hash: string | null;
  new_email: string | null;
  attempts: number;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

/** What a redeemed or peeked token tells its caller. */
export type MailTokenRef = Pick<MailTokenRow, 'id' | 'user_id' | 'purpose' | 'new_email'>;
const REF_COLUMNS = ['id', 'user_id', 'purpose', 'new_email'] as const;

export function createMailTokenRepo(knex: Knex) {
  const unused = (db: Queryable, userId: string, purpose: TokenPurpose) =>
    db<MailTokenRow>('user_tokens').where({ user_id: userId, purpose }).whereNull('used_at');

  return {
    /** Drops the user's unused tokens for `purpose`. */
    async dropUnused(userId: string, purpose: TokenPurpose, db: Queryable = knex): Promise<void> {
      await unused(db, userId, purpose).delete();
    },
    /** Drops the expired unused ones and all but the newest `keep` live unused ones. */
    async trimUnused(userId: string, purpose: TokenPurpose, keep: number, db: Queryable = knex): Promise<void> {
      const live = await unused(db, userId, purpose).where('expires_at', '>', db.fn.now()).orderBy('created_at', 'desc').select('id');
      const drop = live.slice(Math.max(keep, 0)).map((r) => r.id);
      await unused(db, userId, purpose)
        .where((q) => { q.where('expires_at', '<=', db.fn.now()); if (drop.length) q.orWhereIn('id', drop); }).delete();
    },
    async insert(row: Pick<MailTokenRow, 'id' | 'user_id' | 'purpose' | 'token_hash' | 'code_hash' | 'new_email' | 'expires_at'>, db: Queryable = knex): Promise<void> {
      await db('user_tokens').insert(row);
    },
    /** Marks the live unused token with this hash used; what it was, or undefined. */
    async useByHash(tokenHash: string, purpose: TokenPurpose, db: Queryable = knex): Promise<MailTokenRef | undefined> {
      const [row] = await db('user_tokens').where({ token_hash: tokenHash, purpose }).whereNull('used_at')
        .where('expires_at', '>', db.fn.now()).update({ used_at: db.fn.now() }).returning([...REF_COLUMNS]);
      return row as MailTokenRef | undefined;
    },
    /** The live unused token with this hash, left unused. */
    findLiveByHash(tokenHash: string, purpose: TokenPurpose, db: Queryable = knex): Promise<MailTokenRef | undefined> {
      return db<MailTokenRow>('user_tokens').where({ token_hash: tokenHash, purpose }).whereNull('used_at')
        .where('expires_at', '>', db.fn.now()).first(...REF_COLUMNS);
    },
    /** The user's newest live unused token for `purpose`, locked until `tx` ends. */
    newestLiveForUpdate(userId: string, purpose: TokenPurpose, tx: Tx): Promise<MailTokenRow | undefined> {
      return unused(tx, userId, purpose).where('expires_at', '>', tx.fn.now()).orderBy('created_at', 'desc').forUpdate().first();
    },
    async setAttempts(id: string, attempts: number, db: Queryable = knex): Promise<void> {
      await db('user_tokens').where({ id }).update({ attempts });
    },
    async markUsed(id: string, db: Queryable = knex): Promise<void> {
      await db('user_tokens').where({ id }).update({ used_at: db.fn.now() });
    },
  };
}
export type MailTokenRepo = ReturnType<typeof createMailTokenRepo>;
