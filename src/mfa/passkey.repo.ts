// webauthn_credentials: an account's passkeys (public keys, signature counters, transports).
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';

export interface PasskeyRow { id: string; name: string; created_at: Date; last_used_at: Date | null }

export interface CredentialRow extends PasskeyRow {
  user_id: string;
  public_key: string;
  counter: number | string;
  transports: string[];
}

export function createPasskeyRepo(knex: Knex) {
  return {
    /** What the account page lists, oldest first. */
    list: (userId: string): Promise<PasskeyRow[]> =>
      knex('webauthn_credentials').where({ user_id: userId }).select('id', 'name', 'created_at', 'last_used_at').orderBy('created_at'),
    async count(userId: string): Promise<number> {
      const [{ n }] = await knex('webauthn_credentials').where({ user_id: userId }).count({ n: '*' }) as Array<{ n: string }>;
      return Number(n);
    },
    /** Ids and transports, for a ceremony's allow/exclude list. */
    descriptors: (userId: string): Promise<Array<Pick<CredentialRow, 'id' | 'transports'>>> =>
      knex('webauthn_credentials').where({ user_id: userId }).select('id', 'transports'),
    find: (userId: string, id: string): Promise<CredentialRow | undefined> =>
      knex<CredentialRow>('webauthn_credentials').where({ id, user_id: userId }).first(),
    async insert(row: Pick<CredentialRow, 'id' | 'user_id' | 'public_key' | 'counter' | 'transports' | 'name'>): Promise<void> {
      await knex('webauthn_credentials').insert(row);
    },
    async markUsed(id: string, counter: number): Promise<void> {
      await knex('webauthn_credentials').where({ id }).update({ counter, last_used_at: knex.fn.now() });
    },
    async remove(userId: string, id: string, db: Queryable = knex): Promise<boolean> {
      return (await db('webauthn_credentials').where({ user_id: userId, id }).delete()) > 0;
    },
    async removeAll(userId: string, db: Queryable = knex): Promise<void> {
      await db('webauthn_credentials').where({ user_id: userId }).delete();
    },
  };
}
export type PasskeyRepo = ReturnType<typeof createPasskeyRepo>;
