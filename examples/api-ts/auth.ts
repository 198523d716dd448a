// Verifying a Gatehouse access token for this API, and finding (or creating) the API's own user for it.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** What a Gatehouse access token for this API carries (the claims the resource asks for, if granted). */
export interface GatehouseToken extends JWTPayload {
  sub: string;
  scope?: string;
  client_id?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  roles?: string[];
  workspace_id?: string;
  workspace_slug?: string;
  workspace_role?: 'owner' | 'admin' | 'member';
}

export function createVerifier(opts: { issuer: string; audience: string }) {
  // Keys are fetched once and cached; a token signed by a new key (a rotation) fetches them again.
  const jwks = createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));
  return async (token: string): Promise<GatehouseToken> => {
    const { payload } = await jwtVerify<GatehouseToken>(token, jwks, {
      issuer: opts.issuer, // who signed it
      audience: opts.audience, // for this API, not another one
      typ: 'at+jwt', // an access token (RFC 9068), never an ID token
      algorithms: ['RS256'], // pinned: never what the token's header asks for
      requiredClaims: ['sub', 'exp', 'iat'], // exp is checked (with no leeway) when present: require it
    });
    return payload;
  };
}

/** The API's own user record. */
export interface LocalUser { id: string; sub: string; email: string | null; name: string | null }

export interface UserStore {
  findBySub(sub: string): Promise<LocalUser | undefined>;
  insert(user: Omit<LocalUser, 'id'>): Promise<LocalUser>;
  update(user: LocalUser): Promise<void>;
}

/**
 * The local user for a token, created on first sight. Found by `sub` — never by email: an email
 * can change, or pass to someone else; `sub` is the user's for good. The email and name are kept
 * as the last token said, for display only.
 */
export async function localUserFor(token: GatehouseToken, users: UserStore): Promise<{ user: LocalUser; created: boolean }> {
  const found = await users.findBySub(token.sub);
  const email = token.email ?? null;
  const name = token.name ?? null;
  if (!found) return { user: await users.insert({ sub: token.sub, email, name }), created: true };
  if (found.email !== email || found.name !== name) await users.update({ ...found, email: email ?? found.email, name: name ?? found.name });
  return { user: (await users.findBySub(token.sub))!, created: false };
}
