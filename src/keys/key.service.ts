// Signing keys: generated at first boot, stored with their private parts sealed under the master
// secret, rotated on demand. A key's life: pending (published, not signing: relying parties learn it
// first), active (the one key of its algorithm that signs), retired (published until every token it
// signed has expired), then gone. Every state follows from timestamps set at rotation, so every node
// moves a key along at the same moment with no further write (see fingerprint and ../oidc/host.ts).
// Every "now" here is the database's clock (repo.now), never the host's: nodes must agree on when a
// key starts and stops signing, and a host that runs ahead or behind must not move that moment.
import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import type { Transactions, Tx } from '../storage/transactions.ts';
import type { KeyRepo, KeyRow, KeyTimes } from './key.repo.ts';
import type { SecretBox } from '../security/secretbox.ts';
import { MAX_KEY_ACTIVATION_DELAY_SECONDS } from '../config/index.ts';
import { badRequest, conflict, notFound } from '../errors/app-error.ts';

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

function status(row: KeyTimes, now: Date): PublicKeyInfo['status'] {
  if (row.retired_at && new Date(row.retired_at) <= now) return 'retired';
  return new Date(row.activates_at) > now ? 'pending' : 'active';
}

const info = (r: KeyRow, now: Date): PublicKeyInfo => ({
  kid: r.kid, alg: r.alg, createdAt: r.created_at, activatesAt: r.activates_at,
  retiredAt: r.retired_at, expiresAt: r.expires_at, status: status(r, now),
});

const ms = (d: Date | null) => (d ? String(new Date(d).getTime()) : '');

export interface KeyTiming {
  /** the longest lifetime of a token we sign: a retired key stays published that long */
  maxTokenLifetimeSeconds: () => number;
  /** how often every node re-reads the key set (GATEHOUSE_KEY_REFRESH_SECONDS) */
  refreshSeconds: number;
  /** a rotation's default wait between publishing a key and signing with it */
  activationDelaySeconds: number;
}

export interface RotateOptions {
  /** seconds until the new keys sign; 0 at once (a compromised key). Default: the configured delay. */
  activateInSeconds?: number;
}

export function createKeyService(deps: { transactions: Transactions; repo: KeyRepo; box: SecretBox; timing: KeyTiming }) {
  const { transactions, repo, box, timing } = deps;

  function activationDelay(requested: number | undefined): number {
    const seconds = requested ?? timing.activationDelaySeconds;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_KEY_ACTIVATION_DELAY_SECONDS) {
      throw badRequest(`activation delay must be a whole number of seconds from 0 to ${MAX_KEY_ACTIVATION_DELAY_SECONDS}`);
    }
    // a shorter wait lets one node sign with a key that another does not publish yet
    if (seconds > 0 && seconds <= timing.refreshSeconds) {
      throw badRequest(`activation delay must exceed GATEHOUSE_KEY_REFRESH_SECONDS (${timing.refreshSeconds}), or be 0 to sign with the new keys at once`);
    }
    return seconds;
  }

  async function insertNew(alg: SigningAlg, trx: Tx, activatesAt: Date): Promise<string> {
    const k = generate(alg);
    await repo.insert({
      kid: k.kid, alg, public_jwk: k.publicJwk as Record<string, unknown>,
      private_jwk_encrypted: box.seal(JSON.stringify(k.privateJwk)), activates_at: activatesAt,
    }, trx);
    return k.kid;
  }

  /** An algorithm with no key that signs or will sign gets one that signs at once (call under the lock). */
  async function ensureSigners(trx: Tx, now: Date): Promise<void> {
    const present = new Set(await repo.algsWithSigner(now, trx));
    for (const alg of SIGNING_ALGS) if (!present.has(alg)) await insertNew(alg, trx, now);
  }

  return {
    /** First boot: one key per algorithm. Safe when several nodes boot at once (advisory lock). */
    async ensureKeys(): Promise<void> {
      await transactions.run(async (trx) => {
        await repo.lock(trx);
        await ensureSigners(trx, await repo.now(trx));
      });
    },

    /** The database's clock, for callers that read the key set at one instant (../oidc/host.ts). */
    now: (): Promise<Date> => repo.now(),

    /** Private JWKs for the provider: active signers first, so each algorithm signs with its newest key. */
    async providerJwks(at?: Date): Promise<{ keys: JsonWebKey[] }> {
      const now = at ?? await repo.now();
      const rows = await repo.listPublished(now);
      const rank = (r: KeyRow) => ({ active: 0, pending: 1, retired: 2 })[status(r, now)];
      rows.sort((a, b) => rank(a) - rank(b));
      return { keys: rows.map((r) => JSON.parse(box.open(r.private_jwk_encrypted)) as JsonWebKey) };
    },

    async list(at?: Date): Promise<PublicKeyInfo[]> {
      const now = at ?? await repo.now();
      return (await repo.listAll()).map((r) => info(r, now));
    },

    /**
     * Publishes a new key per algorithm now; it signs from `activatesAt`, when the current signer
     * retires. The old key stays published until the last token it may have signed has expired: it
     * signs until activation plus one refresh interval (nodes notice the switch that late at worst),
     * and such a token lives up to the longest token lifetime. A pending key of an earlier rotation
     * never signed; it is dropped, and the new delay counts from now.
     */
    async rotate(algs: readonly SigningAlg[] = SIGNING_ALGS, opts: RotateOptions = {}): Promise<{ kids: string[]; activatesAt: Date }> {
      const delay = activationDelay(opts.activateInSeconds);
      const kids: string[] = [];
      let now!: Date;
      let activatesAt!: Date;
      await transactions.run(async (trx) => {
        await repo.lock(trx); // two rotations at once must not leave two signers per algorithm
        // the database's clock after the lock: "--now" means now for every node, not this host's now
        now = await repo.now(trx);
        activatesAt = new Date(now.getTime() + delay * 1000);
        const expiresAt = new Date(activatesAt.getTime() + (timing.refreshSeconds + timing.maxTokenLifetimeSeconds()) * 1000);
        await ensureSigners(trx, now); // a database no server has booted on yet: a key to rotate from
        for (const alg of algs) {
          await repo.deletePending(alg, now, trx);
          await repo.scheduleRetirement(alg, now, activatesAt, expiresAt, trx);
          kids.push(await insertNew(alg, trx, activatesAt));
        }
      });
      await repo.deleteExpired(now);
      return { kids, activatesAt };
    },

    /**
     * Withdraws a key from the JWKS at once (a compromised key): tokens it signed stop verifying.
     * The key that signs now is refused: rotate with immediate activation first. Withdrawing a
     * pending key leaves the current signer signing.
     */
    async revoke(kid: string): Promise<PublicKeyInfo> {
      return transactions.run(async (trx) => {
        await repo.lock(trx);
        const now = await repo.now(trx);
        const row = await repo.find(kid, trx);
        if (!row) throw notFound(`no signing key "${kid}"`);
        const was = status(row, now);
        if (was === 'active') {
          throw conflict(`${kid} signs ${row.alg} tokens now: revoking it would leave ${row.alg} without a signing key. Rotate ${row.alg} with immediate activation first (gatehouse keys rotate --alg ${row.alg} --now; admin API: "activate_in": 0), then revoke ${kid}.`, 'last_signing_key');
        }
        await repo.delete(kid, trx);
        if (was === 'pending' && await repo.countPending(row.alg, now, trx) === 0) await repo.cancelRetirement(row.alg, now, trx);
        return info(row, now);
      });
    },

    /**
     * A cheap summary that changes whenever the provider's key set would: a key added, withdrawn or
     * expired, and a key that became active or retired as time passed (no row changes then).
     */
    async fingerprint(at?: Date): Promise<string> {
      const now = at ?? await repo.now();
      const rows = await repo.listPublishedTimes(now);
      return rows.map((r) => [r.kid, status(r, now), ms(r.activates_at), ms(r.retired_at), ms(r.expires_at)].join(':')).join('|');
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;
