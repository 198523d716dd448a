// The claim contract (../shared/DESIGN.md): which scope releases which claims.
export const SCOPE_CLAIMS: Record<string, string[]> = {
  // acr/amr/auth_time: how and when the user authenticated (RFC 8176), in every ID token;
  // act: who acts for the user, on impersonation tokens only (RFC 8693 §4.1)
  openid: ['sub', 'acr', 'amr', 'auth_time', 'act'],
  profile: ['name', 'given_name', 'family_name', 'picture', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  roles: ['roles'],
  // the active workspace, flat (any RP reads them without parsing JSON), and every membership
  workspace: ['workspace_id', 'workspace_slug', 'workspace_name', 'workspace_role'],
  workspaces: ['workspaces'],
};

/** Scopes with no claims of their own. `admin` authorises the admin API (DESIGN.md). */
export const EXTRA_SCOPES = ['openid', 'offline_access', 'admin'];

/** acr values: how the user authenticated. */
export const ACR_VALUES = ['pwd', 'mfa'];
