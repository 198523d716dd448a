// Organisation sync on real stores (PostgreSQL, and the embedded PGlite), wired as the server wires it
// (root.orgSync, inside a transaction as the federation sign-in runs it): it adds, re-roles and
// removes only the memberships the provider manages; memberships made by hand or by another provider
// stay as they are; every change is audited with data.managed_by in the same transaction; a rollback
// leaves nothing; a removed membership stops being the active workspace and leaves the claims.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { testRoot, type Root } from '../support/root.ts';
import type { Caller } from '../../src/workspaces/workspace.service.ts';
import type { OrgSyncRule } from '../../src/federation/org-sync.ts';
import { requireReal } from '../support/env.ts';
import { migratedEmbedded, migratedPostgres, tempDir, testConfig, type OpenStore } from '../support/stores.ts';

requireReal();

const PASSWORD = 'correct horse battery staple';
let seq = 0;
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${seq++}`;

const backends: Array<[string, () => Promise<OpenStore & { url?: string }>]> = [
  ['PostgreSQL', migratedPostgres],
  ['embedded PGlite', migratedEmbedded],
];

describe.each(backends)('organisation sync on %s', (_name, open) => {
  let store: OpenStore;
  let c: Root;
  const dir = tempDir();

  beforeAll(async () => {
    store = await open();
    c = testRoot(testConfig({ databaseUrl: (store as { url?: string }).url, dataDir: dir.path }), store.db);
  });
  afterAll(async () => {
    await store?.dispose();
    dir.remove();
  });

  async function provider(rules: OrgSyncRule[] = []) {
    const name = unique('idp');
    await c.db.knex('upstream_providers').insert({ id: randomUUID(), name, display_name: name, kind: 'oidc', issuer: 'https://idp.example', client_id: 'gatehouse', settings: JSON.stringify({ org_sync: rules }) });
    return { name, settings: { org_sync: rules } };
  }
  async function user(label = 'u') {
    const u = await c.accounts.create({ email: `${unique(label)}@example.com`, password: PASSWORD, emailVerified: true });
    return { ...u, caller: { userId: u.id, actorId: u.id } as Caller };
  }
  const workspace = async (owner: Awaited<ReturnType<typeof user>>, slug = unique('ws')) =>
    c.workspaces.create({ slug, name: `Workspace ${slug}` }, owner.id, owner.caller);
  const membershipsOf = async (userId: string) => Object.fromEntries(
    (await c.db.knex('memberships as m').join('workspaces as w', 'w.id', 'm.workspace_id').where('m.user_id', userId).select('w.slug', 'm.role', 'm.managed_by'))
      .map((r) => [r.slug, { role: r.role, managed_by: r.managed_by }]),
  );
  const sync = (userId: string, p: Awaited<ReturnType<typeof provider>>, claims: Record<string, unknown>) =>
    c.transactions.run(async (tx) => {
      const result = await c.orgSync.sync(tx, { userId, provider: p, claims });
      return result;
    }).then((result) => { c.orgSync.committed(userId); return result; });
  const events = (userId: string, type: string) => c.db.knex('audit_events').where({ type, subject_id: userId }).orderBy('id');

  it('adds memberships in existing workspaces, creates one only when the rule says so, and notes the rest', async () => {
    const owner = await user('owner');
    const acme = await workspace(owner);
    const made = unique('made');
    const missing = unique('missing');
    const p = await provider([
      { claim: 'groups', value: 'staff', workspace: acme.slug, role: 'admin', create_workspace: false },
      { claim: 'org.id', workspace: made, role: 'member', create_workspace: true },
      { claim: 'groups', value: 'ghosts', workspace: missing, role: 'member', create_workspace: false },
    ]);
    const u = await user();
    const result = await sync(u.id, p, { groups: ['staff', 'ghosts'], org: { id: 'x' } });

    expect(result.added).toEqual(expect.arrayContaining([
      { workspace: acme.slug, role: 'admin', created: false }, { workspace: made, role: 'member', created: true },
    ]));
    expect(result.notes).toEqual([{ reason: 'no_such_workspace', workspace: missing }]);
    expect(await membershipsOf(u.id)).toEqual({ [acme.slug]: { role: 'admin', managed_by: p.name }, [made]: { role: 'member', managed_by: p.name } });
    const [created] = await c.db.knex('workspaces').where({ slug: made });
    expect(created.created_by).toBeNull(); // made by the upstream; the synced user is not its owner
    expect(await c.db.knex('workspaces').where({ slug: missing })).toHaveLength(0);
    const added = await events(u.id, 'workspace.member_added');
    expect(added.map((e) => e.data)).toEqual(expect.arrayContaining([
      { workspace_id: acme.id, role: 'admin', managed_by: p.name }, { workspace_id: created.id, role: 'member', managed_by: p.name },
    ]));
    expect(await c.db.knex('audit_events').where({ type: 'workspace.created' }).whereRaw(`data->>'workspace_id' = ?`, [created.id])).toHaveLength(1);

    // the same claims again: nothing to do, nothing audited
    const again = await sync(u.id, p, { groups: ['staff', 'ghosts'], org: { id: 'x' } });
    expect([again.added, again.changed, again.removed]).toEqual([[], [], []]);
    expect(await events(u.id, 'workspace.member_added')).toHaveLength(2);
  });

  it('re-roles and removes only its own memberships; hand-made and other providers\' stay as they are', async () => {
    const owner = await user('owner');
    const [keep, promote, drop, hand, theirs] = await Promise.all(['keep', 'promote', 'drop', 'hand', 'theirs'].map((l) => workspace(owner, unique(l))));
    const p = await provider([
      { claim: 'groups', value: 'a', workspace: keep!.slug, role: 'member', create_workspace: false },
      { claim: 'groups', value: 'a', workspace: promote!.slug, role: 'member', create_workspace: false },
      { claim: 'groups', value: 'a', workspace: drop!.slug, role: 'admin', create_workspace: false },
      { claim: 'groups', value: 'b', workspace: hand!.slug, role: 'owner', create_workspace: false },
      { claim: 'groups', value: 'b', workspace: theirs!.slug, role: 'owner', create_workspace: false },
    ]);
    const other = await provider([{ claim: 'groups', workspace: theirs!.slug, role: 'member', create_workspace: false }]);
    const u = await user();
    await c.workspaces.operatorAddMember(hand!.slug, u.email, 'member'); // by hand, in a workspace the rules name
    await sync(u.id, other, { groups: ['x'] });
    await sync(u.id, p, { groups: ['a'] });
    expect(await membershipsOf(u.id)).toEqual({
      [keep!.slug]: { role: 'member', managed_by: p.name }, [promote!.slug]: { role: 'member', managed_by: p.name },
      [drop!.slug]: { role: 'admin', managed_by: p.name }, [hand!.slug]: { role: 'member', managed_by: null },
      [theirs!.slug]: { role: 'member', managed_by: other.name },
    });

    // upstream now: promote is admin, drop is gone, and b (which names the hand-made and the other provider's)
    p.settings.org_sync[1] = { ...p.settings.org_sync[1]!, role: 'admin' };
    const result = await sync(u.id, p, { groups: ['a', 'b'] });
    expect(result.changed).toEqual([{ workspace: promote!.slug, from: 'member', to: 'admin' }]);
    expect(result.removed).toEqual([]);
    const result2 = await sync(u.id, p, { groups: ['b'] });
    expect(result2.removed.map((r) => r.workspace).sort()).toEqual([keep!.slug, promote!.slug, drop!.slug].sort());
    expect(result2.notes).toEqual([{ reason: 'managed_elsewhere', workspace: theirs!.slug }]);
    expect(await membershipsOf(u.id)).toEqual({
      [hand!.slug]: { role: 'member', managed_by: null }, [theirs!.slug]: { role: 'member', managed_by: other.name },
    });
    expect((await events(u.id, 'workspace.member_role_changed')).map((e) => e.data))
      .toEqual([{ workspace_id: promote!.id, from: 'member', to: 'admin', managed_by: p.name }]);
    expect((await events(u.id, 'workspace.member_removed')).map((e) => e.data.managed_by)).toEqual([p.name, p.name, p.name]);
    // the owner's own membership (by hand) was never touched
    expect((await c.db.knex('memberships').where({ user_id: owner.id })).every((m) => m.managed_by === null && m.role === 'owner')).toBe(true);
  });

  it('a rollback of the sign-in leaves nothing: no membership, no workspace, no audit event', async () => {
    const owner = await user('owner');
    const existing = await workspace(owner);
    const fresh = unique('fresh');
    const p = await provider([
      { claim: 'groups', workspace: existing.slug, role: 'member', create_workspace: false },
      { claim: 'groups', workspace: fresh, role: 'owner', create_workspace: true },
    ]);
    const u = await user();
    const auditBefore = await c.db.knex('audit_events').count<{ count: string }[]>('* as count');
    await expect(c.transactions.run(async (tx) => {
      const result = await c.orgSync.sync(tx, { userId: u.id, provider: p, claims: { groups: ['x'] } });
      expect(result.added).toHaveLength(2);
      throw new Error('the sign-in failed after the sync');
    })).rejects.toThrow('the sign-in failed after the sync');
    expect(await membershipsOf(u.id)).toEqual({});
    expect(await c.db.knex('workspaces').where({ slug: fresh })).toHaveLength(0);
    expect(await c.db.knex('audit_events').count<{ count: string }[]>('* as count')).toEqual(auditBefore);
  });

  it('a removed membership is no longer the active workspace, nor in the claims (cache dropped after commit)', async () => {
    const owner = await user('owner');
    const [first, second] = [await workspace(owner, unique('first')), await workspace(owner, unique('second'))];
    const p = await provider([
      { claim: 'groups', value: 'one', workspace: first.slug, role: 'member', create_workspace: false },
      { claim: 'groups', value: 'two', workspace: second.slug, role: 'admin', create_workspace: false },
    ]);
    const u = await user();
    await sync(u.id, p, { groups: ['one', 'two'] });
    await c.workspaces.setActive(u.id, second.id, u.caller);
    const warm = await c.workspaces.claimsSource(u.id, { settle: true }); // caches the memberships (PostgreSQL)
    expect(warm.active?.id).toBe(second.id);

    await sync(u.id, p, { groups: ['one'] });
    const [row] = await c.db.knex('users').where({ id: u.id });
    expect(row.active_workspace_id).toBeNull();
    const claims = await c.workspaces.claimsSource(u.id, { settle: true });
    expect(claims.memberships.map((m) => m.id)).toEqual([first.id]);
    expect(claims.active?.id).toBe(first.id); // the user's next workspace, as the contract says

    await sync(u.id, p, { groups: [] });
    const none = await c.workspaces.claimsSource(u.id, { settle: true });
    expect([none.active, none.memberships]).toEqual([undefined, []]);
  });

  it('the upstream decides: a synced last owner who loses the group is removed, and the workspace flagged', async () => {
    const fresh = unique('teamx');
    const p = await provider([{ claim: 'groups', value: 'leads', workspace: fresh, role: 'owner', create_workspace: true }]);
    const u = await user();
    await sync(u.id, p, { groups: ['leads'] });
    expect(await membershipsOf(u.id)).toEqual({ [fresh]: { role: 'owner', managed_by: p.name } });
    await sync(u.id, p, { groups: [] });
    expect(await membershipsOf(u.id)).toEqual({});
    const [removed] = await events(u.id, 'workspace.member_removed');
    expect(removed.data).toMatchObject({ role: 'owner', managed_by: p.name, left_without_owner: true });
  });

  it('unlinking (the /account/identities service): never the last way in, even with two unlinks at once', async () => {
    const p = await provider();
    const q = await provider();
    const u = await user();
    await c.db.knex('users').where({ id: u.id }).update({ password_hash: null }); // made upstream: no password
    const a = await c.identityRepo.insert({ provider: p.name, subject: 'a-1', user_id: u.id, email: u.email });
    const b = await c.identityRepo.insert({ provider: q.name, subject: 'b-1', user_id: u.id, email: u.email });
    const origin = { ip: null, userAgent: null };
    expect((await c.identities.overview(u.id)).linked.map((i) => i.removable)).toEqual([true, true]);
    const outcomes = await Promise.all([c.identities.unlink(u.id, a.id, origin), c.identities.unlink(u.id, b.id, origin)]);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok)).toEqual([{ ok: false, reason: 'last_way' }]);
    expect(await c.identityRepo.countForUser(u.id)).toBe(1);
    expect((await c.identities.overview(u.id)).linked.map((i) => i.removable)).toEqual([false]);
    expect(await events(u.id, 'identity.unlinked')).toHaveLength(1);
    // an identity at a disabled provider signs nobody in: it does not count as another way
    const r = await provider();
    await c.db.knex('upstream_providers').where({ name: r.name }).update({ enabled: false });
    const d = await c.identityRepo.insert({ provider: r.name, subject: 'd-1', user_id: u.id });
    const kept = (await c.identities.overview(u.id)).linked;
    expect(kept.map((i) => [i.provider, i.removable])).toEqual([[outcomes[0]!.ok ? q.name : p.name, false], [r.name, true]]);
    expect(await c.identities.unlink(u.id, kept[0]!.id, origin)).toEqual({ ok: false, reason: 'last_way' });
    expect(await c.identities.unlink(u.id, d.id, origin)).toEqual({ ok: true, provider: r.name });
    // someone else's identity is not found, and stays
    const other = await user('other');
    expect(await c.identities.unlink(other.id, (outcomes[0]!.ok ? b : a).id, origin)).toEqual({ ok: false, reason: 'not_found' });
    expect(await c.identityRepo.countForUser(u.id)).toBe(1);
  });

  it('a templated rule never joins a workspace people made (the upstream picks the value), only ones its own sync created', async () => {
    const owner = await user('owner');
    const handMade = await workspace(owner);
    const p = await provider([{ claim: 'groups', workspace: '{value}', role: 'admin', create_workspace: true }]);
    const intruder = await user('intruder');
    const made = unique('synced');
    const result = await sync(intruder.id, p, { groups: [handMade.slug, made] });
    expect(result.notes).toContainEqual({ reason: 'not_synced_workspace', workspace: handMade.slug });
    expect(await membershipsOf(intruder.id)).toEqual({ [made]: { role: 'admin', managed_by: p.name } });
    expect((await c.db.knex('workspaces').where({ slug: made }).first()).managed_by).toBe(p.name);
    // the workspace the sync created is joinable by the next user of the same provider
    const colleague = await user('colleague');
    await sync(colleague.id, p, { groups: [made] });
    expect(await membershipsOf(colleague.id)).toEqual({ [made]: { role: 'admin', managed_by: p.name } });
  });

  it('two users whose first sign-ins create the same workspace at once: one workspace, both members', async () => {
    const fresh = unique('shared');
    const p = await provider([{ claim: 'groups', workspace: '{value}', role: 'member', create_workspace: true }]);
    const [a, b] = [await user('a'), await user('b')];
    await Promise.all([sync(a.id, p, { groups: [fresh] }), sync(b.id, p, { groups: [fresh] })]);
    const rows = await c.db.knex('workspaces').where({ slug: fresh });
    expect(rows).toHaveLength(1);
    expect(await c.db.knex('memberships').where({ workspace_id: rows[0].id })).toHaveLength(2);
    expect(await c.db.knex('audit_events').where({ type: 'workspace.created' }).whereRaw(`data->>'slug' = ?`, [fresh])).toHaveLength(1);
  });
});
