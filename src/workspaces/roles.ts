// Who may do what in a workspace, as pure functions of roles: an owner can do everything, an admin
// manages members and admins but never owners, a member uses the workspace. Each rule returns the
// sentence to show when it refuses, or undefined when it allows. The last-owner rule needs the
// database and lives in the service.
export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];


const MANAGERS: ReadonlySet<Role> = new Set(['owner', 'admin']);

/** The roles an actor may give (by invitation or role change). */
export function assignableRoles(actor: Role): Role[] {
  if (actor === 'owner') return [...ROLES];
  if (actor === 'admin') return ['admin', 'member'];
  return [];
}

export function checkCanViewMembers(_actor: Role): string | undefined {
  return undefined; // every member may see who else is in the workspace
}

export function checkCanManageInvitations(actor: Role): string | undefined {
  return MANAGERS.has(actor) ? undefined : 'Only owners and admins can manage invitations.';
}

export function checkCanInvite(actor: Role, role: Role): string | undefined {
  if (!MANAGERS.has(actor)) return 'Only owners and admins can invite people.';
  if (!assignableRoles(actor).includes(role)) return 'Only owners can invite owners.';
  return undefined;
}

export function checkCanRevokeInvitation(actor: Role, invitedRole: Role): string | undefined {
  if (!MANAGERS.has(actor)) return 'Only owners and admins can revoke invitations.';
  if (!assignableRoles(actor).includes(invitedRole)) return 'Only owners can revoke an invitation to become an owner.';
  return undefined;
}

/** Changing `target`'s role from `from` to `to`; `self` when the actor changes their own role. */
export function checkCanChangeRole(actor: Role, from: Role, to: Role, self: boolean): string | undefined {
  if (actor === 'member') return self ? 'Members cannot change their own role.' : 'Only owners and admins can change roles.';
  if (actor === 'admin') {
    if (from === 'owner') return 'Admins cannot change an owner\'s role.';
    if (to === 'owner') return 'Only owners can make someone an owner.';
  }
  return undefined;
}

/** Removing a member whose role is `target`; `self` is leaving. */
export function checkCanRemove(actor: Role, target: Role, self: boolean): string | undefined {
  if (self) return undefined; // anyone may leave (the last owner is stopped by the service)
  if (actor === 'member') return 'Only owners and admins can remove members.';
  if (actor === 'admin' && target === 'owner') return 'Admins cannot remove an owner.';
  return undefined;
}

export function checkCanRename(actor: Role): string | undefined {
  return actor === 'owner' ? undefined : 'Only owners can rename the workspace.';
}

export function checkCanDelete(actor: Role): string | undefined {
  return actor === 'owner' ? undefined : 'Only owners can delete the workspace.';
}
