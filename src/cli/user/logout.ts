// gatehouse logout: revokes the refresh token at the issuer (RFC 7009; Gatehouse then revokes the
// whole grant, access tokens included) and deletes the local copy.
import * as oidc from 'openid-client';
import { CliError } from '../errors.ts';
import { connect, explain, isNetworkError } from './issuer.ts';
import { DEFAULT_PROFILE, deleteProfile, readProfile, withLock } from './credential-store.ts';

export async function logout(o: { profile: string; local?: boolean }): Promise<void> {
  const credentials = readProfile(o.profile);
  if (!credentials) {
    process.stdout.write(`Not signed in${o.profile === DEFAULT_PROFILE ? '' : ` (profile "${o.profile}")`}: nothing to do.\n`);
    return;
  }
  if (!o.local) {
    const { issuer } = credentials;
    try {
      const config = await connect(issuer, credentials.client_id);
      const [token, hint] = credentials.refresh_token ? [credentials.refresh_token, 'refresh_token'] : [credentials.access_token, 'access_token'];
      await oidc.tokenRevocation(config, token, { token_type_hint: hint });
    } catch (e) {
      if (e instanceof CliError || isNetworkError(e)) {
        throw new CliError(`Cannot reach the issuer at ${issuer} to end the session: run gatehouse logout again when it is reachable, or gatehouse logout --local to only delete the local copy.`);
      }
      throw explain(e, issuer);
    }
  }
  await withLock(async () => { deleteProfile(o.profile); });
  process.stdout.write(o.local
    ? `Deleted the local credentials for ${credentials.issuer}; the session itself was not revoked.\n`
    : `Signed out of ${credentials.issuer}: the session was revoked and the local credentials deleted.\n`);
}
