// The workspace claims of the contract (../shared/DESIGN.md): scope `workspace` → the active
// workspace as four flat claims; scope `workspaces` → every membership as {id, slug, name, role}.
import type { UserMembership } from './workspace.repo.ts';
import { hasScope } from '../oidc/scopes.ts';

export interface WorkspaceClaimsSource {
  /** the active workspace, already checked to be a membership */
  active?: UserMembership;
  memberships: UserMembership[];
}

export interface FlatWorkspaceClaims {
  workspace_id: string;
  workspace_slug: string;
  workspace_name: string;
  workspace_role: string;
}


/** The flat claims, or nothing at all when there is no active workspace (never a stale one). */
export function flatWorkspaceClaims(active: UserMembership | undefined): FlatWorkspaceClaims | Record<string, never> {
  if (!active) return {};
  return { workspace_id: active.id, workspace_slug: active.slug, workspace_name: active.name, workspace_role: active.role };
}

export function workspaceListClaim(memberships: UserMembership[]): { workspaces: Array<{ id: string; slug: string; name: string; role: string }> } {
  return { workspaces: memberships.map(({ id, slug, name, role }) => ({ id, slug, name, role })) };
}

/** The claims for a scope string: flat ones with `workspace`, the list with `workspaces`. */
export function workspaceClaims(source: WorkspaceClaimsSource, scope: string): Record<string, unknown> {
  return {
    ...(hasScope(scope, 'workspace') ? flatWorkspaceClaims(source.active) : {}),
    ...(hasScope(scope, 'workspaces') ? workspaceListClaim(source.memberships) : {}),
  };
}
