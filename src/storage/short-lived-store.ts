// The short-lived-record store: oidc-provider's adapter contract (see its example/my_adapter.js)
// plus our per-account index. Here, on the ground floor, so the domains that end sessions and
// grants (accounts, mfa, admin) use it without importing oidc/. The implementations (Redis, SQL)
// live in src/oidc/adapters/ and pass one conformance suite (tests/integration/adapter-conformance.test.ts).

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
  /** The store behind these records: what a 503 about them names. */
  readonly backend: 'redis' | 'postgres';
  /**
   * Makes a refresh token's consumption final once its rotation was answered (src/oidc/adapters/rotation.ts).
   * Until then the consumption is pending (see ROTATION_SETTLE_MS in src/oidc/adapters/redemption.ts), under the owner of the request
   * that consumed it (rotationOwner()). Compare-and-settle: true when the pending mark was still
   * `owner`'s and is now final; false when it is not (another request took it over after the settle
   * time, or the token is gone), and then nothing is changed.
   */
  settleRotation(refreshTokenId: string, owner: string): Promise<boolean>;
  /**
   * Undoes a pending consumption that is still `owner`'s (its rotation was refused with a 4xx):
   * the refresh token is unused again. Anyone else's mark is left alone.
   */
  releaseRotation(refreshTokenId: string, owner: string): Promise<void>;
};
