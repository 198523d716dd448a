// Passkeys as a second factor (WebAuthn through @simplewebauthn/server). Challenges live in the
// short-lived store for five minutes and are used once.
import type { Knex } from 'knex';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type RegistrationResponseJSON, type AuthenticatorTransport,
} from '@simplewebauthn/server';
import type { AdapterFactory } from '../storage/short-lived-store.ts';

const CHALLENGE_TTL_SECONDS = 5 * 60;

export interface PasskeyRow { id: string; name: string; created_at: Date; last_used_at: Date | null }

export function createWebAuthn(deps: { knex: Knex; adapters: AdapterFactory; issuer: string; rpName: string }) {
  const { knex } = deps;
  const origin = new URL(deps.issuer).origin;
  const rpID = new URL(deps.issuer).hostname;
  const challenges = deps.adapters('WebAuthnChallenge');

  async function takeChallenge(key: string): Promise<string | undefined> {
    const found = await challenges.find(key);
    if (found) await challenges.destroy(key);
    return found?.challenge as string | undefined;
  }

  return {
    list: (userId: string): Promise<PasskeyRow[]> => knex('webauthn_credentials').where({ user_id: userId }).select('id', 'name', 'created_at', 'last_used_at').orderBy('created_at'),
    async count(userId: string): Promise<number> {
      const [{ n }] = await knex('webauthn_credentials').where({ user_id: userId }).count({ n: '*' }) as Array<{ n: string }>;
      return Number(n);
    },

    async registrationOptions(user: { id: string; email: string; name: string | null }) {
      const existing = await knex('webauthn_credentials').where({ user_id: user.id }).select('id', 'transports');
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
      await knex('webauthn_credentials').insert({
        id: credential.id, user_id: userId, public_key: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter, transports: credential.transports ?? [], name: name.slice(0, 100) || 'Passkey',
      });
      return true;
    },

    /** Options for a second-factor check; keyed by the interaction (or session) doing the check. */
    async authenticationOptions(userId: string, key: string) {
      const creds = await knex('webauthn_credentials').where({ user_id: userId }).select('id', 'transports');
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
      const row = await knex('webauthn_credentials').where({ id: response.id, user_id: userId }).first();
      if (!row) return false;
      let result;
      try {
        result = await verifyAuthenticationResponse({
          response, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false,
          credential: { id: row.id, publicKey: Buffer.from(row.public_key, 'base64url'), counter: Number(row.counter), transports: row.transports },
        });
      } catch { return false; }
      if (!result.verified) return false;
      await knex('webauthn_credentials').where({ id: row.id }).update({ counter: result.authenticationInfo.newCounter, last_used_at: knex.fn.now() });
      return true;
    },

    async remove(userId: string, id: string, trx: Knex = knex): Promise<boolean> {
      return (await trx('webauthn_credentials').where({ user_id: userId, id }).delete()) > 0;
    },
    async removeAll(userId: string, trx: Knex = knex): Promise<void> {
      await trx('webauthn_credentials').where({ user_id: userId }).delete();
    },
  };
}
export type WebAuthn = ReturnType<typeof createWebAuthn>;
