// Single-use tokens sent by mail (verification, password reset, email change): 256-bit random
// link tokens and 6-digit codes, stored as SHA-256 hashes, expiring, marked used atomically.
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';

export type TokenPurpose = 'verify_email' | 'reset_password' | 'change_email';
/** A code gets five tries; then the user asks for a new one. */
const MAX_CODE_ATTEMPTS = 5;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface TokenRow { id: string; user_id: string; purpose: TokenPurpose; new_email: string | null }

export function createMailTokens(deps: { knex: Knex }) {
  const { knex } = deps;
  return {
    /**
     * A new token. By default it replaces the user's earlier unused ones for the same purpose;
     * with `keepLive: n` the earlier ones stay valid (until used or expired) and only the oldest
     * beyond the newest n live ones are dropped.
     */
    async issue(userId: string, purpose: TokenPurpose, ttlSeconds: number, extra: { newEmail?: string; keepLive?: number } = {}, trx: Knex = knex) {
      const token = randomBytes(32).toString('base64url');
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const unused = trx('user_tokens').where({ user_id: userId, purpose }).whereNull('used_at');
      if (extra.keepLive === undefined) {
        await unused.delete();
      } else {
        // expired ones go; of the live ones, keep the newest keepLive - 1 beside the new one
        const live = await unused.clone().where('expires_at', '>', trx.fn.now()).orderBy('created_at', 'desc').select('id');
        const drop = live.slice(Math.max(extra.keepLive - 1, 0)).map((r: { id: string }) => r.id);
        await trx('user_tokens').where({ user_id: userId, purpose }).whereNull('used_at')
          .where((q) => { q.where('expires_at', '<=', trx.fn.now()); if (drop.length) q.orWhereIn('id', drop); }).delete();
      }
      await trx('user_tokens').insert({
        id: randomUUID(), user_id: userId, purpose, token_hash: sha256(token), code_hash: sha256(`${userId}:${code}`),
        new_email: extra.newEmail ?? null, expires_at: new Date(Date.now() + ttlSeconds * 1000),
      });
      return { token, code };
    },

    /** Redeems a link token once. */
    async redeemToken(token: string, purpose: TokenPurpose, trx: Knex = knex): Promise<TokenRow | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      const [row] = await trx('user_tokens').where({ token_hash: sha256(token), purpose }).whereNull('used_at')
        .where('expires_at', '>', trx.fn.now()).update({ used_at: trx.fn.now() }).returning(['id', 'user_id', 'purpose', 'new_email']);
      return row as TokenRow | undefined;
    },

    /** Peeks at a link token without using it (to show the form it leads to). */
    async peekToken(token: string, purpose: TokenPurpose): Promise<TokenRow | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      return knex('user_tokens').where({ token_hash: sha256(token), purpose }).whereNull('used_at')
        .where('expires_at', '>', knex.fn.now()).first('id', 'user_id', 'purpose', 'new_email');
    },

    /** Redeems the user's current code once; five wrong tries burn it. */
    async redeemCode(userId: string, purpose: TokenPurpose, code: string): Promise<TokenRow | undefined> {
      const given = Buffer.from(sha256(`${userId}:${code.replace(/\s+/g, '')}`));
      return knex.transaction(async (trx) => {
        const row = await trx('user_tokens').where({ user_id: userId, purpose }).whereNull('used_at')
          .where('expires_at', '>', trx.fn.now()).orderBy('created_at', 'desc').forUpdate().first();
        if (!row || row.attempts >= MAX_CODE_ATTEMPTS) return undefined;
        if (!row.code_hash || !timingSafeEqual(Buffer.from(row.code_hash), given)) {
          await trx('user_tokens').where({ id: row.id }).update({ attempts: row.attempts + 1 });
          return undefined;
        }
        await trx('user_tokens').where({ id: row.id }).update({ used_at: trx.fn.now() });
        return { id: row.id, user_id: row.user_id, purpose: row.purpose, new_email: row.new_email };
      });
    },
  };
}
export type MailTokens = ReturnType<typeof createMailTokens>;
