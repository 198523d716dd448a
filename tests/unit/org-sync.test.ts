// Organisation sync's two pure steps: claims + rules → the memberships they ask for, and current +
// desired → the changes. Examples for each rule of the mapping, then properties over random claims,
// rules and memberships: planning is idempotent (apply the plan, plan again: nothing to do), and a
// membership made by hand or by another provider is never in a plan.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  MAX_SYNCED_MEMBERSHIPS, claimValues, desiredMemberships, planSync, slugPart,
  type DesiredMembership, type OrgSyncRule,
} from '../../src/federation/org-sync.ts';
import type { SyncedMembership } from '../../src/workspaces/workspace.repo.ts';
import { ROLES, type Role } from '../../src/workspaces/roles.ts';
import { isSlug } from '../../src/workspaces/workspace.schema.ts';

const rule = (r: Partial<OrgSyncRule> & Pick<OrgSyncRule, 'claim' | 'workspace'>): OrgSyncRule => ({ role: 'member', ...r });

describe('claimValues', () => {
  it('reads strings, numbers and booleans, alone or in arrays, at a name or a dotted path', () => {
    const claims = { groups: ['eng', 'ops', 7, { no: 1 }, null], org: { id: 'acme', deep: { x: true } }, hd: 'example.com', 'https://x.example/roles': ['admin'] };
    expect(claimValues(claims, 'groups')).toEqual(['eng', 'ops', '7']);
    expect(claimValues(claims, 'org.id')).toEqual(['acme']);
    expect(claimValues(claims, 'org.deep.x')).toEqual(['true']);
    expect(claimValues(claims, 'hd')).toEqual(['example.com']);
    expect(claimValues(claims, 'https://x.example/roles')).toEqual(['admin']);
    expect(claimValues(claims, 'org')).toEqual([]);
    expect(claimValues(claims, 'missing.path')).toEqual([]);
    expect(claimValues(claims, '__proto__')).toEqual([]);
    expect(claimValues(claims, 'constructor.name')).toEqual([]);
  });
});

describe('desiredMemberships', () => {
  it('a fixed workspace when the claim has the value; every value when no value is given', () => {
    const claims = { groups: ['eng', 'admins'], hd: 'example.com' };
    expect(desiredMemberships(claims, [
      rule({ claim: 'groups', value: 'admins', workspace: 'acme', role: 'admin' }),
      rule({ claim: 'groups', value: 'nobody', workspace: 'never' }),
      rule({ claim: 'hd', workspace: 'Example-Staff' }),
    ]).desired).toEqual([
      { slug: 'acme', role: 'admin', create: false, name: 'acme', templated: false },
      { slug: 'example-staff', role: 'member', create: false, name: 'example-staff', templated: false },
    ]);
  });

  it('a template makes one workspace per value, slug-shaped, named after the value', () => {
    const { desired, notes } = desiredMemberships({ groups: ['Engineering Team', 'ops', '!!!'] }, [
      rule({ claim: 'groups', workspace: 'corp-{value}', create_workspace: true }),
    ]);
    expect(desired).toEqual([
      { slug: 'corp-engineering-team', role: 'member', create: true, name: 'Engineering Team', templated: true },
      { slug: 'corp-ops', role: 'member', create: true, name: 'ops', templated: true },
    ]);
    expect(notes).toEqual([{ reason: 'invalid_slug', workspace: 'corp-', rule: 0 }]);
  });

  it('several rules naming one workspace: the highest role wins, one create is enough', () => {
    const { desired } = desiredMemberships({ groups: ['a', 'b'], roles: ['owner'] }, [
      rule({ claim: 'groups', value: 'a', workspace: 'acme', role: 'member' }),
      rule({ claim: 'roles', value: 'owner', workspace: 'acme', role: 'owner' }),
      rule({ claim: 'groups', value: 'b', workspace: 'acme', role: 'admin', create_workspace: true }),
    ]);
    expect(desired).toEqual([{ slug: 'acme', role: 'owner', create: true, name: 'acme', templated: false }]);
  });

  it('a workspace named outright by any rule counts as the operator\'s choice, not the template\'s', () => {
    const { desired } = desiredMemberships({ groups: ['acme'] }, [
      rule({ claim: 'groups', workspace: '{value}', role: 'admin' }),
      rule({ claim: 'groups', value: 'acme', workspace: 'acme', role: 'member' }),
    ]);
    expect(desired).toEqual([{ slug: 'acme', role: 'admin', create: false, name: 'acme', templated: false }]);
  });

  it('never a UUID-shaped or malformed slug; at most MAX_SYNCED_MEMBERSHIPS, the rest noted', () => {
    const uuid = '123e4567-e89b-12d3-a456-426614174000';
    expect(desiredMemberships({ tid: uuid }, [rule({ claim: 'tid', workspace: '{value}' })]).desired).toEqual([]);
    expect(desiredMemberships({ tid: uuid }, [rule({ claim: 'tid', workspace: 'entra-{value}' })]).desired.map((d) => d.slug)).toEqual([`entra-${uuid}`]);
    const many = Array.from({ length: MAX_SYNCED_MEMBERSHIPS + 5 }, (_, i) => `g${String(i).padStart(4, '0')}`);
    const { desired, notes } = desiredMemberships({ groups: many }, [rule({ claim: 'groups', workspace: '{value}' })]);
    expect(desired).toHaveLength(MAX_SYNCED_MEMBERSHIPS);
    expect(notes.filter((n) => n.reason === 'too_many')).toHaveLength(5);
  });

  it('slugPart lower-cases and turns every run of other characters into one hyphen', () => {
    expect(slugPart('Example.COM')).toBe('example-com');
    expect(slugPart('  a__b  ')).toBe('a-b');
    expect(slugPart('Équipe')).toBe('equipe');
  });
});

const PROVIDER = 'corp';
const slugArb = fc.stringMatching(/^[a-z][a-z0-9]{1,6}$/);
const roleArb = fc.constantFrom<Role>(...ROLES);
const managerArb = fc.constantFrom<string | null>(PROVIDER, PROVIDER, null, 'other');

/** A user's memberships: at most one per workspace, each made by hand, by us, or by another provider. */
const currentArb = fc.uniqueArray(fc.record({ slug: slugArb, role: roleArb, managed_by: managerArb }), { selector: (m) => m.slug, maxLength: 8 })
  .map((ms) => ms.map((m): SyncedMembership => ({ ...m, workspace_id: `id-${m.slug}` })));
const rulesArb = fc.array(fc.record({
  claim: fc.constantFrom('groups', 'org.id', 'roles'),
  value: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  workspace: fc.oneof(slugArb, slugArb.map((s) => `${s}-{value}`), fc.constant('{value}')),
  role: roleArb,
  create_workspace: fc.option(fc.boolean(), { nil: undefined }),
}), { maxLength: 5 });
const claimsArb = fc.record({
  groups: fc.array(fc.constantFrom('a', 'b', 'c', 'Team X', '!'), { maxLength: 4 }),
  org: fc.record({ id: fc.constantFrom('a', 'b', 'acme') }),
  roles: fc.constantFrom('a', 'b', ['a', 'c']),
});
const existingArb = fc.uniqueArray(slugArb, { maxLength: 6 });

/** The state after applying a plan, as the service would (new memberships managed by PROVIDER). */
function apply(current: readonly SyncedMembership[], plan: ReturnType<typeof planSync>): SyncedMembership[] {
  const removed = new Set(plan.remove.map((r) => r.slug));
  const updated = new Map(plan.update.map((u) => [u.slug, u.to]));
  return [
    ...current.filter((m) => !removed.has(m.slug)).map((m) => ({ ...m, role: updated.get(m.slug) ?? m.role })),
    ...plan.add.map((a) => ({ workspace_id: `id-${a.slug}`, slug: a.slug, role: a.role, managed_by: PROVIDER })),
  ];
}

describe('planSync (properties)', () => {
  it('is idempotent: after applying a plan, planning again changes nothing', () => {
    fc.assert(fc.property(currentArb, claimsArb, rulesArb, existingArb, (current, claims, rules, existingList) => {
      const { desired } = desiredMemberships(claims, rules);
      const existing = new Set([...existingList, ...current.map((m) => m.slug)]);
      const plan = planSync(current, desired, PROVIDER, existing);
      const after = apply(current, plan);
      const again = planSync(after, desired, PROVIDER, new Set([...existing, ...plan.add.map((a) => a.slug)]));
      expect(again.add).toEqual([]);
      expect(again.update).toEqual([]);
      expect(again.remove).toEqual([]);
      // and the mapping itself is a function of its input
      expect(desiredMemberships(claims, rules)).toEqual(desiredMemberships(claims, rules));
    }));
  });

  it('never touches a membership made by hand or by another provider', () => {
    fc.assert(fc.property(currentArb, claimsArb, rulesArb, existingArb, (current, claims, rules, existingList) => {
      const { desired } = desiredMemberships(claims, rules);
      const plan = planSync(current, desired, PROVIDER, new Set([...existingList, ...current.map((m) => m.slug)]));
      const foreign = new Set(current.filter((m) => m.managed_by !== PROVIDER).map((m) => m.slug));
      for (const slug of [...plan.add, ...plan.update, ...plan.remove].map((c) => c.slug)) expect(foreign.has(slug)).toBe(false);
      const after = apply(current, plan);
      for (const m of current.filter((c) => c.managed_by !== PROVIDER)) expect(after).toContainEqual(m);
    }));
  });

  it('leaves exactly the desired memberships managed by the provider (where nothing else holds the workspace)', () => {
    fc.assert(fc.property(currentArb, claimsArb, rulesArb, existingArb, (current, claims, rules, existingList) => {
      const { desired } = desiredMemberships(claims, rules);
      const existing = new Set([...existingList, ...current.map((m) => m.slug)]);
      const after = apply(current, planSync(current, desired, PROVIDER, existing));
      const foreign = new Set(current.filter((m) => m.managed_by !== PROVIDER).map((m) => m.slug));
      const expected = desired.filter((d: DesiredMembership) => !foreign.has(d.slug) && (existing.has(d.slug) || d.create))
        .map((d) => [d.slug, d.role]);
      const managed = after.filter((m) => m.managed_by === PROVIDER).map((m) => [m.slug, m.role]);
      expect(managed.sort()).toEqual(expected.sort());
      for (const d of desired) expect(isSlug(d.slug)).toBe(true);
    }));
  });
});

describe('planSync (examples)', () => {
  const m = (slug: string, role: Role, managed_by: string | null): SyncedMembership => ({ workspace_id: `id-${slug}`, slug, role, managed_by });
  it('adds, re-roles and removes its own; a hand-made membership in a named workspace stays hand-made', () => {
    const current = [m('keep', 'member', PROVIDER), m('promote', 'member', PROVIDER), m('gone', 'admin', PROVIDER), m('hand', 'member', null), m('theirs', 'owner', 'other')];
    const desired: DesiredMembership[] = [
      { slug: 'keep', role: 'member', create: false, name: 'keep' },
      { slug: 'promote', role: 'admin', create: false, name: 'promote' },
      { slug: 'hand', role: 'owner', create: false, name: 'hand' },
      { slug: 'theirs', role: 'member', create: false, name: 'theirs' },
      { slug: 'new', role: 'member', create: false, name: 'new' },
      { slug: 'made', role: 'admin', create: true, name: 'Made' },
      { slug: 'absent', role: 'member', create: false, name: 'absent' },
    ];
    const plan = planSync(current, desired, PROVIDER, new Set(['keep', 'promote', 'gone', 'hand', 'theirs', 'new']));
    expect(plan.add).toEqual([
      { slug: 'new', role: 'member', create: false, name: 'new', exists: true },
      { slug: 'made', role: 'admin', create: true, name: 'Made', exists: false },
    ]);
    expect(plan.update).toEqual([{ slug: 'promote', workspace_id: 'id-promote', from: 'member', to: 'admin' }]);
    expect(plan.remove).toEqual([{ slug: 'gone', workspace_id: 'id-gone', role: 'admin' }]);
    expect(plan.notes).toEqual([{ reason: 'managed_elsewhere', workspace: 'theirs' }, { reason: 'no_such_workspace', workspace: 'absent' }]);
  });

  it('a templated value never joins an existing workspace this provider did not create', () => {
    const desired: DesiredMembership[] = [
      { slug: 'acme', role: 'admin', create: true, name: 'ACME!', templated: true }, // made by people
      { slug: 'team-x', role: 'member', create: true, name: 'x', templated: true }, // made by this provider's sync
      { slug: 'fresh', role: 'member', create: true, name: 'fresh', templated: true }, // not there yet: created
    ];
    const plan = planSync([], desired, PROVIDER, new Set(['acme', 'team-x']), (slug) => slug === 'team-x');
    expect(plan.add.map((a) => a.slug)).toEqual(['team-x', 'fresh']);
    expect(plan.notes).toEqual([{ reason: 'not_synced_workspace', workspace: 'acme' }]);
  });
});
