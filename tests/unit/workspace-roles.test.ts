// The workspace role rules, the slug and reference syntax, and the claim shapes, as pure functions.
import { describe, expect, it } from '@jest/globals';
import {
  ROLES, assignableRoles, checkCanChangeRole, checkCanDelete, checkCanInvite, checkCanManageInvitations, checkCanRemove,
  checkCanRename, checkCanRevokeInvitation, type Role,
} from '../../src/workspaces/roles.ts';
import { isSlug, parseWorkspaceRef } from '../../src/workspaces/workspace.schema.ts';
import { flatWorkspaceClaims, workspaceClaims } from '../../src/workspaces/workspace.claims.ts';
import { hasScope } from '../../src/oidc/scopes.ts';

const allowed = (problem: string | undefined) => problem === undefined;

describe('role rules', () => {
  it('what each role may assign: owners anything, admins admin and member, members nothing', () => {
    expect(assignableRoles('owner')).toEqual(['owner', 'admin', 'member']);
    expect(assignableRoles('admin')).toEqual(['admin', 'member']);
    expect(assignableRoles('member')).toEqual([]);
  });

  // [actor, target's current role, new role, self?, allowed?]
  const changes: Array<[Role, Role, Role, boolean, boolean]> = [
    ['member', 'member', 'admin', true, false], // a member cannot raise their own role
    ['member', 'member', 'owner', true, false],
    ['member', 'admin', 'member', false, false],
    ['admin', 'admin', 'owner', true, false], // nor can an admin make themselves owner
    ['admin', 'member', 'owner', false, false],
    ['admin', 'owner', 'admin', false, false], // an admin never touches an owner
    ['admin', 'member', 'admin', false, true],
    ['admin', 'admin', 'member', false, true],
    ['admin', 'admin', 'member', true, true], // stepping down
    ['owner', 'member', 'owner', false, true],
    ['owner', 'owner', 'member', false, true], // (the last-owner rule is the service's)
    ['owner', 'owner', 'admin', true, true],
  ];
  it.each(changes)('%s changing a %s to %s (self: %s) → allowed %s', (actor, from, to, self, ok) => {
    expect(allowed(checkCanChangeRole(actor, from, to, self))).toBe(ok);
  });

  const removals: Array<[Role, Role, boolean, boolean]> = [
    ['member', 'member', false, false],
    ['member', 'admin', false, false],
    ['member', 'member', true, true], // leaving
    ['admin', 'owner', false, false],
    ['admin', 'admin', false, true],
    ['admin', 'member', false, true],
    ['owner', 'owner', false, true],
  ];
  it.each(removals)('%s removing a %s (self: %s) → allowed %s', (actor, target, self, ok) => {
    expect(allowed(checkCanRemove(actor, target, self))).toBe(ok);
  });

  it('invitations: owners and admins, admins never for owners; members none', () => {
    for (const role of ROLES) expect(allowed(checkCanInvite('owner', role))).toBe(true);
    expect(allowed(checkCanInvite('admin', 'owner'))).toBe(false);
    expect(allowed(checkCanInvite('admin', 'admin'))).toBe(true);
    for (const role of ROLES) expect(allowed(checkCanInvite('member', role))).toBe(false);
    expect(allowed(checkCanManageInvitations('member'))).toBe(false);
    expect(allowed(checkCanManageInvitations('admin'))).toBe(true);
    expect(allowed(checkCanRevokeInvitation('admin', 'owner'))).toBe(false);
    expect(allowed(checkCanRevokeInvitation('admin', 'member'))).toBe(true);
    expect(allowed(checkCanRevokeInvitation('member', 'member'))).toBe(false);
  });

  it('only owners rename and delete', () => {
    expect(ROLES.filter((r) => allowed(checkCanRename(r)))).toEqual(['owner']);
    expect(ROLES.filter((r) => allowed(checkCanDelete(r)))).toEqual(['owner']);
  });

  it('every refusal is a sentence', () => {
    expect(checkCanChangeRole('member', 'member', 'admin', true)).toMatch(/^[A-Z].*\.$/);
    expect(checkCanRemove('admin', 'owner', false)).toMatch(/^[A-Z].*\.$/);
  });
});

describe('slugs and workspace references', () => {
  it.each(['ab', 'acme', 'acme-corp', 'a1-b2-c3', '42', 'x'.repeat(63)])('"%s" is a slug', (s) => {
    expect(isSlug(s)).toBe(true);
  });
  it.each(['', 'a', 'Acme', '-acme', 'acme-', 'ac--me', 'ac me', 'ac_me', 'acmé', 'x'.repeat(64), '123e4567-e89b-12d3-a456-426614174000'])(
    '"%s" is not a slug', (s) => { expect(isSlug(s)).toBe(false); },
  );
  it('a reference is an id (any case) or a slug (any case, compared lower-case)', () => {
    expect(parseWorkspaceRef('123E4567-E89B-12D3-A456-426614174000')).toEqual({ id: '123e4567-e89b-12d3-a456-426614174000' });
    expect(parseWorkspaceRef(' ACME ')).toEqual({ slug: 'acme' });
    expect(parseWorkspaceRef('not a slug')).toBeUndefined();
    expect(parseWorkspaceRef(42)).toBeUndefined();
    expect(parseWorkspaceRef(undefined)).toBeUndefined();
  });
});

describe('workspace claims', () => {
  const acme = { id: 'w1', slug: 'acme', name: 'Acme', role: 'admin' as const, joined_at: new Date() };
  const beta = { id: 'w2', slug: 'beta', name: 'Beta', role: 'member' as const, joined_at: new Date() };

  it('scope workspace: four flat claims; scope workspaces: the list; both: both', () => {
    const source = { active: acme, memberships: [acme, beta] };
    expect(workspaceClaims(source, 'openid workspace')).toEqual({ workspace_id: 'w1', workspace_slug: 'acme', workspace_name: 'Acme', workspace_role: 'admin' });
    expect(workspaceClaims(source, 'openid workspaces')).toEqual({
      workspaces: [{ id: 'w1', slug: 'acme', name: 'Acme', role: 'admin' }, { id: 'w2', slug: 'beta', name: 'Beta', role: 'member' }],
    });
    expect(Object.keys(workspaceClaims(source, 'workspace workspaces')).sort()).toEqual(['workspace_id', 'workspace_name', 'workspace_role', 'workspace_slug', 'workspaces']);
    expect(workspaceClaims(source, 'openid profile')).toEqual({});
  });

  it('no active workspace: no flat claims at all (never a stale or empty one), an empty list', () => {
    expect(flatWorkspaceClaims(undefined)).toEqual({});
    expect(workspaceClaims({ memberships: [] }, 'workspace workspaces')).toEqual({ workspaces: [] });
  });

  it('scope matching is by whole words', () => {
    expect(hasScope('openid workspaces', 'workspace')).toBe(false);
    expect(hasScope('workspace', 'workspace')).toBe(true);
    expect(hasScope(undefined, 'workspace')).toBe(false);
  });
});
