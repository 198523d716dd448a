// Signing keys: generated at first boot, stored with their private parts sealed under the master
// secret, rotated on demand. A rotated-out key stays in the JWKS until every token it signed has
// expired; the newest active key of each algorithm signs.
import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import type { Knex } from 'knex';
import type { KeyRepo, KeyRow } from './key.repo.ts';
import type { SecretBox } from '../security/secretbox.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const RSA_MODULUS_BITS = 2048; // RS256 per RFC 7518 §3.3 (≥ 2048)

export interface PublicKeyInfo {
  kid: string; alg: string; createdAt: Date; activatesAt: Date; retiredAt: Date | null; expiresAt: Date | null;
  status: 'active' | 'pending' | 'retired';
}

function generate(alg: SigningAlg): { kid: string; publicJwk: JsonWebKey; privateJwk: JsonWebKey } {
  const kid = randomUUID();
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_BITS })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const base = { kid, alg, use: 'sig' };
  return {
    kid,
    publicJwk: { ...pair.publicKey.export({ format: 'jwk' }), ...base },
    privateJwk: { ...pair.privateKey.export({ format: 'jwk' }), ...base },
  };
}

function status(row: KeyRow, now: Date): PublicKeyInfo['status'] {
  if (row.retired_at) return 'retired';
  return new Date(row.activates_at) > now ? 'pending' : 'active';
}

/** Serialises key-set changes across nodes (a transaction-scoped advisory lock). */
const KEYS_LOCK_ID = 0x6761_7465;
const lockKeys = (trx: Knex) => trx.raw('select pg_advisory_xact_lock(?)', [KEYS_LOCK_ID]);

export function createKeyService(deps: { knex: Knex; repo: KeyRepo; box: SecretBox; maxTokenLifetimeSeconds: () => number }) {
  const { knex, repo, box } = deps;

  async function insertNew(alg: SigningAlg, trx: Knex, activatesAt = new Date()): Promise<string> {
    const k = generate(alg);
    await repo.insert({
      kid: k.kid, alg, public_jwk: k.publicJwk as Record<string, unknown>,
      private_jwk_encrypted: box.seal(JSON.stringify(k.privateJwk)), activates_at: activatesAt,
    }, trx);
    return k.kid;
  }

  return {
    /** First boot: one key per algorithm. Safe when several nodes boot at once (advisory lock). */
    async ensureKeys(): Promise<void> {
      await knex.transaction(async (trx) => {
        await lockKeys(trx);
        const present = new Set((await trx('signing_keys').whereNull('retired_at').select('alg')).map((r) => r.alg));
        for (const alg of SIGNING_ALGS) if (!present.has(alg)) await insertNew(alg, trx);
      });
    },

    /** Private JWKs for the provider: active signers first, so each algorithm signs with its newest key. */
    async providerJwks(now = new Date()): Promise<{ keys: JsonWebKey[] }> {
      const rows = await repo.listPublished(now);
      const rank = (r: KeyRow) => ({ active: 0, pending: 1, retired: 2 })[status(r, now)];
      rows.sort((a, b) => rank(a) - rank(b));
      return { keys: rows.map((r) => JSON.parse(box.open(r.private_jwk_encrypted)) as JsonWebKey) };
    },

    async list(now = new Date()): Promise<PublicKeyInfo[]> {
      return (await repo.listAll()).map((r) => ({
        kid: r.kid, alg: r.alg, createdAt: r.created_at, activatesAt: r.activates_at,
        retiredAt: r.retired_at, expiresAt: r.expires_at, status: status(r, now),
      }));
    },

    /** Publishes new keys and signs with them; old ones stay published until their tokens expire. */
    async rotate(algs: readonly SigningAlg[] = SIGNING_ALGS): Promise<string[]> {
      const now = new Date();
      const expiresAt = new Date(now.getTime() + deps.maxTokenLifetimeSeconds() * 1000);
      const kids: string[] = [];
      await knex.transaction(async (trx) => {
        await lockKeys(trx); // two rotations at once must not leave two active keys per algorithm
        for (const alg of algs) {
          await repo.retireActive(alg, now, expiresAt, trx);
          kids.push(await insertNew(alg, trx, now));
        }
      });
      await repo.deleteExpired(now);
      return kids;
    },

    fingerprint: () => repo.fingerprint(),
  };
}
export type KeyService = ReturnType<typeof createKeyService>;
