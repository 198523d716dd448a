// Organisation sync: on every upstream sign-in, the workspace memberships a provider manages are made
// to match what its rules read from the upstream claims. Three pieces, in order:
//   1. desiredMemberships(claims, rules)   pure: which workspaces, in which role, the claims ask for
//   2. planSync(current, desired, name)    pure: what to add, re-role and remove — never a membership
//                                          made by hand (managed_by null) or by another provider
//   3. syncOrganisations(deps, tx, input)  applies the plan in the sign-in's transaction, through the
//                                          workspace service (audit with data.managed_by; a removed
//                                          membership stops being the active workspace)
// The rules (the provider's settings, src/upstream/provider.schema.ts: `org_sync`):
//   { claim, value?, workspace, role, create_workspace? }
import type { Logger } from 'pino';
import type { Tx } from '../storage/transactions.ts';
import type { WorkspaceRepo, WorkspaceRow, SyncedMembership } from '../workspaces/workspace.repo.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import type { MembershipCache } from '../workspaces/membership-cache.ts';
import { isSlug } from '../workspaces/workspace.schema.ts';
import type { Role } from '../workspaces/roles.ts';
import type { OrgSyncRule as RegisteredRule } from '../upstream/provider.schema.ts';

/**
 * A rule as the registry stores it (orgSyncRuleSchema). `claim`: a claim name, or a dotted path into
 * nested claims ('groups', 'org.id'); a claim whose own name has dots (Auth0's
 * 'https://example.com/roles') is found by its whole name first. `value`: only this value (compared
 * as text); absent, every value. `workspace`: a slug, or a template in which '{value}' is the claim's
 * value made slug-shaped. `create_workspace`: create a missing workspace (else skipped, with a note).
 */
export type OrgSyncRule = Omit<RegisteredRule, 'create_workspace'> & { create_workspace?: boolean };

/** A membership the claims ask for. `name`: the display name a created workspace gets. */
export interface DesiredMembership {
  slug: string; role: Role; create: boolean; name: string;
  /** only templated rules ('{value}') ask for it: it may join an existing workspace only when this provider's sync created it */
  templated?: boolean;
}

/** Why part of the rules did nothing this time: recorded in the audit data, never an error. */
export interface SyncNote { reason: 'invalid_slug' | 'no_such_workspace' | 'managed_elsewhere' | 'too_many' | 'not_synced_workspace'; workspace: string; rule?: number }

/**
 * How many memberships one sign-in may ask for. A groups claim of thousands (Entra's overage, a
 * misconfigured template) would otherwise lock and create thousands of workspaces in one
 * transaction; past this the rest are dropped in slug order, with a note.
 */
export const MAX_SYNCED_MEMBERSHIPS = 200;
/** How many values of one claim are read: the same reason, one step earlier. */
export const MAX_CLAIM_VALUES = 1000;
const NAME_MAX = 100;
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

/** The claim's values as text: a string, number or boolean, or an array of them; anything else none. */
export function claimValues(claims: Record<string, unknown>, path: string): string[] {
  let value: unknown = Object.hasOwn(claims, path) ? claims[path] : undefined;
  if (value === undefined && path.includes('.')) {
    value = claims;
    for (const key of path.split('.')) {
      value = value && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    }
  }
  const list = Array.isArray(value) ? value.slice(0, MAX_CLAIM_VALUES) : [value];
  return list.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String);
}

/** An upstream value made slug-shaped: accents dropped, lower case, every run of other characters one hyphen. */
export function slugPart(value: string): string {
  return value.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

const displayName = (value: string) => value.replace(/\p{Cc}/gu, ' ').trim().slice(0, NAME_MAX);

/**
 * Claims + rules → the memberships they ask for, one per workspace (several rules naming one
 * workspace: the highest role wins; one of them asking to create it is enough), in slug order.
 */
export function desiredMemberships(claims: Record<string, unknown>, rules: readonly OrgSyncRule[]): { desired: DesiredMembership[]; notes: SyncNote[] } {
  const bySlug = new Map<string, DesiredMembership>();
  const notes: SyncNote[] = [];
  rules.forEach((rule, index) => {
    const templated = rule.workspace.includes('{value}');
    for (const value of claimValues(claims, rule.claim)) {
      if (rule.value !== undefined && value !== rule.value) continue;
      const slug = templated ? rule.workspace.replaceAll('{value}', slugPart(value)) : rule.workspace.toLowerCase();
      if (!isSlug(slug)) {
        notes.push({ reason: 'invalid_slug', workspace: slug.slice(0, 100), rule: index });
        if (!templated) break;
        continue;
      }
      const name = (templated ? displayName(value) : '') || slug;
      const seen = bySlug.get(slug);
      if (!seen) bySlug.set(slug, { slug, role: rule.role, create: rule.create_workspace === true, name, templated });
      else {
        if (!templated) seen.templated = false; // a rule names it outright: the operator chose it
        if (RANK[rule.role] > RANK[seen.role]) seen.role = rule.role;
        if (rule.create_workspace === true && !seen.create) { seen.create = true; seen.name = name; }
      }
      if (!templated) break; // a fixed workspace: one matching value is enough
    }
  });
  const desired = [...bySlug.values()].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  for (const dropped of desired.splice(MAX_SYNCED_MEMBERSHIPS)) notes.push({ reason: 'too_many', workspace: dropped.slug });
  return { desired, notes };
}

export interface SyncPlan {
  /** new memberships managed by the provider (`exists`: the workspace is already there) */
  add: Array<DesiredMembership & { exists: boolean }>;
  update: Array<{ slug: string; workspace_id: string; from: Role; to: Role }>;
  remove: Array<{ slug: string; workspace_id: string; role: Role }>;
  notes: SyncNote[];
}

/**
 * What to change so the memberships `provider` manages match `desired`. Only memberships whose
 * managed_by is `provider` are ever updated or removed. A workspace where the user already has a
 * membership made by hand, or managed by another provider, is left exactly as it is (noted): the
 * hand-made membership stays hand-made, and its role is not the rules' to change.
 * `existing`: the slugs of workspaces that exist (a desired workspace not among them is added only
 * when its rule may create it).
 */
export function planSync(
  current: readonly SyncedMembership[], desired: readonly DesiredMembership[], provider: string, existing: ReadonlySet<string>,
  /** whether a templated rule may join this existing workspace: the sync passes "this provider created it" */
  joinable: (slug: string) => boolean = () => true,
): SyncPlan {
  const plan: SyncPlan = { add: [], update: [], remove: [], notes: [] };
  const mine = new Map(current.filter((m) => m.managed_by === provider).map((m) => [m.slug, m]));
  const others = new Map(current.filter((m) => m.managed_by !== provider).map((m) => [m.slug, m]));
  const wanted = new Set<string>();
  for (const d of desired) {
    wanted.add(d.slug);
    const held = mine.get(d.slug);
    if (held) {
      if (held.role !== d.role) plan.update.push({ slug: d.slug, workspace_id: held.workspace_id, from: held.role, to: d.role });
    } else if (others.has(d.slug)) {
      if (others.get(d.slug)!.managed_by !== null) plan.notes.push({ reason: 'managed_elsewhere', workspace: d.slug });
    } else if (d.templated && existing.has(d.slug) && !joinable(d.slug)) {
      // a value from upstream names a workspace people made: never joined through a template
      plan.notes.push({ reason: 'not_synced_workspace', workspace: d.slug });
    } else if (existing.has(d.slug) || d.create) {
      plan.add.push({ ...d, exists: existing.has(d.slug) });
    } else {
      plan.notes.push({ reason: 'no_such_workspace', workspace: d.slug });
    }
  }
  for (const m of mine.values()) {
    if (!wanted.has(m.slug)) plan.remove.push({ slug: m.slug, workspace_id: m.workspace_id, role: m.role });
  }
  return plan;
}

export interface OrgSyncDeps {
  repo: Pick<WorkspaceRepo, 'membershipsForSync' | 'lockWorkspacesBySlug'>;
  workspaces: Pick<WorkspaceService, 'managed'>;
  cache: Pick<MembershipCache, 'invalidate'>;
  /** where skipped rules are told to the operator (a missing workspace is a setup mistake to fix) */
  log?: Pick<Logger, 'info'>;
}

/** The provider as far as the sync reads it (the registry's provider, settings filled in, fits). */
export interface SyncingProvider { name: string; settings: { org_sync?: readonly OrgSyncRule[] } }

export interface OrgSyncInput { userId: string; provider: SyncingProvider; claims: Record<string, unknown> }

export interface OrgSyncResult {
  added: Array<{ workspace: string; role: Role; created: boolean }>;
  changed: Array<{ workspace: string; from: Role; to: Role }>;
  removed: Array<{ workspace: string; role: Role }>;
  /** what the rules asked for and did not get: put it in the sign-in's audit data (`org_sync`) */
  notes: SyncNote[];
}

/**
 * Applies the provider's rules to the user's memberships, in `tx` (the sign-in's transaction: if it
 * rolls back, so does every change and its audit event). No rules (or none matching) remove every
 * membership the provider manages: what the rules say is the whole truth for those.
 * After `tx` commits, call `committed(userId)` (createOrgSync) so this node's cached claims follow.
 */
export async function syncOrganisations(deps: OrgSyncDeps, tx: Tx, { userId, provider, claims }: OrgSyncInput): Promise<OrgSyncResult> {
  const result: OrgSyncResult = { added: [], changed: [], removed: [], notes: [] };
  const { desired, notes } = desiredMemberships(claims, provider.settings.org_sync ?? []);
  result.notes.push(...notes);

  // Lock every workspace the sync may touch (asked for, or held through this provider), in slug
  // order, then read the memberships again under the locks: what is planned is what is committed.
  const before = await deps.repo.membershipsForSync(userId, tx);
  const touched = new Set([...desired.map((d) => d.slug), ...before.filter((m) => m.managed_by === provider.name).map((m) => m.slug)]);
  const locked = new Map((await deps.repo.lockWorkspacesBySlug([...touched].sort(), tx)).map((w) => [w.slug, w]));
  const current = await deps.repo.membershipsForSync(userId, tx);
  const plan = planSync(current, desired, provider.name, new Set(locked.keys()), (slug) => locked.get(slug)?.managed_by === provider.name);
  result.notes.push(...plan.notes);

  const { managed } = deps.workspaces;
  // a membership another sign-in of the same user added since the first read: lock its workspace now
  const lockedOne = async (slug: string) => locked.get(slug) ?? (await deps.repo.lockWorkspacesBySlug([slug], tx))[0]!;
  for (const a of plan.add) {
    const ws: WorkspaceRow = locked.get(a.slug) ?? await managed.createWorkspace(a.slug, a.name, provider.name, tx);
    await managed.add(ws, userId, a.role, provider.name, tx);
    result.added.push({ workspace: a.slug, role: a.role, created: !a.exists });
  }
  for (const u of plan.update) {
    await managed.changeRole(await lockedOne(u.slug), userId, u.from, u.to, provider.name, tx);
    result.changed.push({ workspace: u.slug, from: u.from, to: u.to });
  }
  for (const r of plan.remove) {
    await managed.remove(await lockedOne(r.slug), userId, r.role, provider.name, tx);
    result.removed.push({ workspace: r.slug, role: r.role });
  }
  if (result.notes.length > 0) {
    deps.log?.info({ event: 'org_sync_skipped', provider: provider.name, user_id: userId, notes: result.notes.slice(0, 20) }, 'organisation sync skipped part of its rules');
  }
  return result;
}

/** Built once in root.ts; federation calls `sync` inside its sign-in transaction and `committed` after it. */
export function createOrgSync(deps: OrgSyncDeps) {
  return {
    sync: (tx: Tx, input: OrgSyncInput) => syncOrganisations(deps, tx, input),
    /** After the sign-in's transaction commits: this node drops the user's cached memberships at
     * once (other nodes hear it from the database's change notification). */
    committed: (userId: string) => deps.cache.invalidate(userId),
  };
}
export type OrgSync = ReturnType<typeof createOrgSync>;
