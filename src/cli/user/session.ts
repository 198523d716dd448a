// A profile's tokens, kept fresh: an access token that is about to expire is refreshed (and the
// rotated refresh token saved) under the credentials lock, so parallel commands refresh once.
import * as oidc from 'openid-client';
import { CliError } from '../errors.ts';
import { connect, explain, SESSION_ENDED } from './issuer.ts';
import { DEFAULT_PROFILE, readProfile, saveProfile, withLock, type Credentials } from './credential-store.ts';

/** A token this close to expiry would die in flight (in the curl that asked for it): refresh it now. */
const EXPIRY_MARGIN_SECONDS = 30;

const now = () => Math.floor(Date.now() / 1000);

export function isFresh(c: Credentials): boolean {
  return c.expires_at === undefined || c.expires_at - EXPIRY_MARGIN_SECONDS > now();
}

export function credentialsFrom(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previous?: Credentials): Credentials {
  const expiresIn = tokens.expiresIn();
  return {
    issuer: previous?.issuer ?? config.serverMetadata().issuer,
    client_id: config.clientMetadata().client_id,
    scope: tokens.scope ?? previous?.scope,
    token_type: tokens.token_type ?? 'Bearer',
    access_token: tokens.access_token,
    ...(expiresIn !== undefined ? { expires_at: now() + expiresIn } : {}),
    // rotation: the issuer sends a new refresh token and the old one is spent
    refresh_token: tokens.refresh_token ?? previous?.refresh_token,
    sub: tokens.claims()?.sub ?? previous?.sub,
    saved_at: new Date().toISOString(),
  };
}

function notSignedIn(profile: string): CliError {
  const flag = profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`;
  return new CliError(`You are not signed in${flag ? ` (profile "${profile}")` : ''}: run gatehouse login --issuer URL --client-id ID${flag}.`);
}

export function requireProfile(profile: string): Credentials {
  const c = readProfile(profile);
  if (!c) throw notSignedIn(profile);
  return c;
}

export interface Session {
  credentials: Credentials;
  /** discovery happens once, and only when a command needs the issuer */
  config(): Promise<oidc.Configuration>;
}

function sessionOf(credentials: Credentials, config?: oidc.Configuration): Session {
  let pending: Promise<oidc.Configuration> | undefined = config ? Promise.resolve(config) : undefined;
  return { credentials, config: () => (pending ??= connect(credentials.issuer, credentials.client_id)) };
}

/** The profile's tokens, refreshed first when the access token has expired (or `force`). */
export async function freshSession(profile: string, opts: { force?: boolean } = {}): Promise<Session> {
  const stored = requireProfile(profile);
  if (!opts.force && isFresh(stored)) return sessionOf(stored);
  return withLock(async () => {
    // another command may have refreshed while we waited for the lock
    const current = requireProfile(profile);
    if (current.access_token !== stored.access_token && isFresh(current)) return sessionOf(current);
    if (!current.refresh_token) throw new CliError(SESSION_ENDED);
    const config = await connect(current.issuer, current.client_id);
    let tokens;
    try {
      tokens = await oidc.refreshTokenGrant(config, current.refresh_token);
    } catch (e) {
      throw explain(e, current.issuer, { invalid_grant: SESSION_ENDED, invalid_client: SESSION_ENDED, unauthorized_client: SESSION_ENDED });
    }
    const next = credentialsFrom(config, tokens, current);
    saveProfile(profile, next);
    return sessionOf(next, config);
  });
}
