import type { Knex } from 'knex';

export interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  private_jwk_encrypted: string;
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
  expires_at: Date | null;
}

export function createKeyRepo(knex: Knex) {
  return {
    /** Keys still published: not past their expiry. Newest first. */
    async listPublished(now = new Date()): Promise<KeyRow[]> {
      return knex<KeyRow>('signing_keys')
        .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now))
        .orderBy('activates_at', 'desc').orderBy('created_at', 'desc');
    },
    async listAll(): Promise<KeyRow[]> {
      return knex<KeyRow>('signing_keys').orderBy('created_at', 'desc');
    },
    async insert(row: Omit<KeyRow, 'created_at' | 'retired_at' | 'expires_at'>, trx: Knex = knex): Promise<void> {
      await trx('signing_keys').insert(row);
    },
    async retireActive(alg: string, retiredAt: Date, expiresAt: Date, trx: Knex = knex): Promise<number> {
      return trx('signing_keys').where({ alg }).whereNull('retired_at')
        .update({ retired_at: retiredAt, expires_at: expiresAt });
    },
    async deleteExpired(now = new Date()): Promise<number> {
      return knex('signing_keys').whereNotNull('expires_at').where('expires_at', '<=', now).delete();
    },
    /** A cheap summary that changes whenever the published key set does. */
    async fingerprint(now = new Date()): Promise<string> {
      const rows = await knex('signing_keys').select('kid', 'activates_at', 'retired_at', 'expires_at')
        .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now)).orderBy('kid');
      return rows.map((r) => `${r.kid}:${+new Date(r.activates_at)}:${r.retired_at ? +new Date(r.retired_at) : ''}:${r.expires_at ? +new Date(r.expires_at) : ''}`).join('|');
    },
  };
}
export type KeyRepo = ReturnType<typeof createKeyRepo>;
