// What each scope means in plain words, for the pages that ask a person to grant scopes: the
// consent page (src/interactions/consent.ts) and the device-flow confirmation (src/oidc/device.ts).
// Which claims a scope releases is src/oidc/claims.ts.

export const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name, picture and language',
  email: 'See your email address',
  offline_access: 'Stay signed in while you are away',
  roles: 'See your roles',
  workspace: 'See your active workspace and your role in it, and switch to another of your workspaces',
  workspaces: 'See the workspaces you belong to',
};

/** The write scopes (src/oidc/claims.ts WRITE_SCOPES), listed apart on the page as changes. */
export const WRITE_SCOPE_TEXT: Record<string, string> = {
  'profile:write': 'Change your name, picture and language',
  'workspace:manage': 'Create, rename and delete your workspaces, and add, remove and invite their members, as far as your role in each allows',
  admin: 'Administer Gatehouse as you: change other people\'s accounts, apps and settings (only while you are an administrator)',
};

/** One line for a scope, in plain words (write scopes say what they change). */
export function scopeDescription(scope: string): string {
  return WRITE_SCOPE_TEXT[scope] ?? SCOPE_TEXT[scope] ?? `Use the "${scope}" permission`;
}

/** Whether a space-separated scope string includes `name`. */
export function hasScope(scope: string | undefined, name: string): boolean {
  return ` ${scope ?? ''} `.includes(` ${name} `);
}
