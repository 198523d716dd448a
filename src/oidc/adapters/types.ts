// The adapter contract of oidc-provider (see its example/my_adapter.js). Both stores implement it
// and pass the same conformance suite (tests/integration/adapter-conformance.test.ts).
import { errors } from 'oidc-provider';

export type Payload = Record<string, any>;

export interface Adapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export type AdapterFactory = ((model: string) => Adapter) & {
  /**
   * Ends everything an account holds: its sessions and grants, with every token issued under
   * them (password reset, sign-out everywhere, a disabled account). Not part of oidc-provider's
   * contract: the stores keep a per-account index of Session and Grant records for it.
   */
  revokeAccount(accountId: string): Promise<void>;
  /** The account's records of one indexed model (its grants, its sessions), with their ids. */
  listAccount(accountId: string, model: 'Session' | 'Grant'): Promise<Array<{ id: string; payload: Payload }>>;
};

/** Models indexed by account (see AdapterFactory.revokeAccount). */
export const ACCOUNT_INDEXED = new Set(['Session', 'Grant']);

/** Models redeemed at the token endpoint: of N parallel redemptions exactly one may win. */
const REDEEMED_AT_TOKEN_ENDPOINT = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * A redemption that lost the race (or found the record gone) is a replay: revoke what the grant
 * issued, as a sequential replay would, and answer invalid_grant.
 */
export async function lostConsumeRace(adapter: Adapter, model: string, grantId: string | undefined): Promise<void> {
  if (!REDEEMED_AT_TOKEN_ENDPOINT.has(model)) return;
  if (grantId) await adapter.revokeByGrantId(grantId);
  throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
}
