// Single-use tokens sent by mail (verification, password reset, email change): 256-bit random
// link tokens and 6-digit codes, stored as SHA-256 hashes (src/accounts/mail-token.repo.ts),
// expiring, marked used atomically.
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import type { MailTokenRef, MailTokenRepo, TokenPurpose } from './mail-token.repo.ts';

export type { TokenPurpose };
/** A code gets five tries; then the user asks for a new one. */
const MAX_CODE_ATTEMPTS = 5;
/** The shape of a link token: 32 random bytes, base64url. Anything else is not looked up. */
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export type TokenRow = MailTokenRef;

export function createMailTokens(deps: { repo: MailTokenRepo; transactions: Transactions }) {
  const { repo, transactions } = deps;
  return {
    /**
     * A new token. By default it replaces the user's earlier unused ones for the same purpose;
     * with `keepLive: n` the earlier ones stay valid (until used or expired) and only the oldest
     * beyond the newest n live ones are dropped.
     */
    async issue(userId: string, purpose: TokenPurpose, ttlSeconds: number, extra: { newEmail?: string; keepLive?: number } = {}, tx?: Queryable) {
      const token = randomBytes(32).toString('base64url');
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      if (extra.keepLive === undefined) await repo.dropUnused(userId, purpose, tx);
      else await repo.trimUnused(userId, purpose, extra.keepLive - 1, tx); // keepLive - 1 beside the new one
      await repo.insert({
        id: randomUUID(), user_id: userId, purpose, token_hash: sha256(token), code_hash: sha256(`${userId}:${code}`),
        new_email: extra.newEmail ?? null, expires_at: new Date(Date.now() + ttlSeconds * 1000),
      }, tx);
      return { token, code };
    },

    /** Redeems a link token once. */
    async redeemToken(token: string, purpose: TokenPurpose, tx?: Queryable): Promise<TokenRow | undefined> {
      if (!LINK_TOKEN.test(token)) return undefined;
      return repo.useByHash(sha256(token), purpose, tx);
    },

    /** Peeks at a link token without using it (to show the form it leads to). */
    async peekToken(token: string, purpose: TokenPurpose): Promise<TokenRow | undefined> {
      if (!LINK_TOKEN.test(token)) return undefined;
      return repo.findLiveByHash(sha256(token), purpose);
    },

    /** Redeems the user's current code once; five wrong tries burn it. */
    async redeemCode(userId: string, purpose: TokenPurpose, code: string): Promise<TokenRow | undefined> {
      const given = Buffer.from(sha256(`${userId}:${code.replace(/\s+/g, '')}`));
      return transactions.run(async (tx) => {
        const row = await repo.newestLiveForUpdate(userId, purpose, tx);
        if (!row || row.attempts >= MAX_CODE_ATTEMPTS) return undefined;
        if (!row.code_hash || !timingSafeEqual(Buffer.from(row.code_hash), given)) {
          await repo.setAttempts(row.id, row.attempts + 1, tx);
          return undefined;
        }
        await repo.markUsed(row.id, tx);
        return { id: row.id, user_id: row.user_id, purpose: row.purpose, new_email: row.new_email };
      });
    },
  };
}
export type MailTokens = ReturnType<typeof createMailTokens>;
