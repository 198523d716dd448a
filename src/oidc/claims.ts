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

/**
 * Write scopes carry no claims; they only authorise Gatehouse's own APIs (DESIGN.md, docs/accounts.md):
 * `profile:write` PATCH /api/me, `workspace:manage` creating, renaming and deleting workspaces,
 * members and invitations, `admin` the admin API (with the admin role). They are never in a
 * client's default scopes; a client asks for one only if it was registered with it.
 */
export const WRITE_SCOPES = ['profile:write', 'workspace:manage', 'admin'] as const;

/** Scopes with no claims of their own. */
export const EXTRA_SCOPES = ['openid', 'offline_access', ...WRITE_SCOPES];

/** acr values: how the user authenticated (`fed`: through an upstream provider, one factor as far as we know). */
export const ACR_VALUES = ['pwd', 'mfa', 'fed'];
