// Passkeys as a second factor (WebAuthn through @simplewebauthn/server). Challenges live in the
// short-lived store for five minutes and are used once.
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type RegistrationResponseJSON, type AuthenticatorTransport,
} from '@simplewebauthn/server';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Queryable } from '../storage/transactions.ts';
import type { PasskeyRepo, PasskeyRow } from './passkey.repo.ts';

const CHALLENGE_TTL_SECONDS = 5 * 60;

export type { PasskeyRow };

export function createWebAuthn(deps: { repo: PasskeyRepo; adapters: AdapterFactory; issuer: string; rpName: string }) {
  const { repo } = deps;
  const origin = new URL(deps.issuer).origin;
  const rpID = new URL(deps.issuer).hostname;
  const challenges = deps.adapters('WebAuthnChallenge');

  async function takeChallenge(key: string): Promise<string | undefined> {
    const found = await challenges.find(key);
    if (found) await challenges.destroy(key);
    return found?.challenge as string | undefined;
  }

  return {
    list: (userId: string): Promise<PasskeyRow[]> => repo.list(userId),
    count: (userId: string): Promise<number> => repo.count(userId),

    async registrationOptions(user: { id: string; email: string; name: string | null }) {
      const existing = await repo.descriptors(user.id);
      const options = await generateRegistrationOptions({
        rpName: deps.rpName, rpID, userName: user.email, userDisplayName: user.name ?? user.email,
        userID: new TextEncoder().encode(user.id), attestationType: 'none',
        excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      await challenges.upsert(`reg:${user.id}`, { challenge: options.challenge }, CHALLENGE_TTL_SECONDS);
      return options;
    },

    async register(userId: string, response: RegistrationResponseJSON, name: string): Promise<boolean> {
      const expectedChallenge = await takeChallenge(`reg:${userId}`);
      if (!expectedChallenge) return false;
      let result;
      try {
        result = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false });
      } catch { return false; }
      if (!result.verified || !result.registrationInfo) return false;
      const { credential } = result.registrationInfo;
      await repo.insert({
        id: credential.id, user_id: userId, public_key: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter, transports: credential.transports ?? [], name: name.slice(0, 100) || 'Passkey',
      });
      return true;
    },

    /** Options for a second-factor check; keyed by the interaction (or session) doing the check. */
    async authenticationOptions(userId: string, key: string) {
      const creds = await repo.descriptors(userId);
      const options = await generateAuthenticationOptions({
        rpID, userVerification: 'preferred',
        allowCredentials: creds.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
      });
      await challenges.upsert(`auth:${key}`, { challenge: options.challenge }, CHALLENGE_TTL_SECONDS);
      return options;
    },

    async authenticate(userId: string, key: string, response: AuthenticationResponseJSON): Promise<boolean> {
      const expectedChallenge = await takeChallenge(`auth:${key}`);
      if (!expectedChallenge || typeof response?.id !== 'string') return false;
      const row = await repo.find(userId, response.id);
      if (!row) return false;
      let result;
      try {
        result = await verifyAuthenticationResponse({
          response, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false,
          credential: { id: row.id, publicKey: Buffer.from(row.public_key, 'base64url'), counter: Number(row.counter), transports: row.transports },
        });
      } catch { return false; }
      if (!result.verified) return false;
      await repo.markUsed(row.id, result.authenticationInfo.newCounter);
      return true;
    },

    remove: (userId: string, id: string, trx?: Queryable): Promise<boolean> => repo.remove(userId, id, trx),
    removeAll: (userId: string, trx?: Queryable): Promise<void> => repo.removeAll(userId, trx),
  };
}
export type WebAuthn = ReturnType<typeof createWebAuthn>;
