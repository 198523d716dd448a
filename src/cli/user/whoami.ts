// gatehouse whoami: who the profile is signed in as, and in which workspace (from userinfo).
import * as oidc from 'openid-client';
import { explain, oauthError, SESSION_ENDED } from './issuer.ts';
import { freshSession, type Session } from './session.ts';

async function userinfo(session: Session): Promise<oidc.UserInfoResponse> {
  const { credentials } = session;
  return oidc.fetchUserInfo(await session.config(), credentials.access_token, credentials.sub ?? oidc.skipSubjectCheck);
}

export async function whoami(o: { profile: string; json?: boolean }): Promise<void> {
  let session = await freshSession(o.profile);
  let info: oidc.UserInfoResponse;
  try {
    info = await userinfo(session);
  } catch (e) {
    // revoked or expired early at the issuer: one refresh, then give up
    if (oauthError(e) !== 'invalid_token') throw explain(e, session.credentials.issuer);
    session = await freshSession(o.profile, { force: true });
    try { info = await userinfo(session); } catch (again) {
      throw explain(again, session.credentials.issuer, { invalid_token: SESSION_ENDED });
    }
  }
  const { issuer } = session.credentials;
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ profile: o.profile, issuer, userinfo: info }, null, 2)}\n`);
    return;
  }
  const name = typeof info.name === 'string' && info.name ? ` (${info.name})` : '';
  const lines = [`${info.email ?? info.sub}${name}`, `subject:    ${info.sub}`];
  if (typeof info.workspace_slug === 'string') {
    lines.push(`workspace:  ${info.workspace_slug}${typeof info.workspace_role === 'string' ? ` (${info.workspace_role})` : ''}`);
  }
  lines.push(`issuer:     ${issuer}`, `profile:    ${o.profile}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
