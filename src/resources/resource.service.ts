// Resources (APIs): created, changed and removed by operators from the CLI, the admin API and the
// console, each change audited in its own transaction. GATEHOUSE_RESOURCES entries are listed too,
// read-only: the variable is their source of truth (docs/resources.md, "Precedence").
import { randomUUID } from 'node:crypto';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import { badRequest, conflict, notFound } from '../errors/app-error.ts';
import type { ResourceRepo, ResourceRow } from './resource.repo.ts';
import type { ResourceRegistry } from './resource-registry.ts';
import { ENV_RESOURCE_SCOPES } from './resource-registry.ts';
import {
  audienceProblem, describeResourceError, resourceCreateSchema, resourcePatchSchema,
  type ResourceCreateInput, type ResourcePatchInput,
} from './resource.schema.ts';

/** A resource as operators see it (CLI, admin API, console). */
export interface ResourceView {
  /** null for a GATEHOUSE_RESOURCES entry */
  id: string | null;
  audience: string;
  name: string;
  claims: string[];
  scopes: string[];
  /** seconds as set; null: GATEHOUSE_ACCESS_TOKEN_TTL */
  ttl: number | null;
  /** the lifetime its tokens get */
  effective_ttl: number;
  enabled: boolean;
  /** where it is defined: env (GATEHOUSE_RESOURCES, read-only), or where it was created: cli, api, console */
  source: string;
  /** a stored resource whose audience GATEHOUSE_RESOURCES also names: the variable's entry is served */
  shadowed: boolean;
  created_at: string | null;
  updated_at: string | null;
}

/** Who changed it, for the audit trail (an operator on the host has no actor). */
export interface ResourceOrigin { actorId?: string | null; clientId?: string | null; ip?: string | null; userAgent?: string | null }

/** The audit trail as this service writes it (src/audit/audit.ts, on the same layer, is wired in by the root). */
export interface ResourceAudit {
  record(event: ResourceOrigin & { type: string; subjectId?: string | null; data?: Record<string, unknown> }, tx?: Queryable): Promise<void>;
}

export interface ResourceServiceDeps {
  transactions: Transactions;
  repo: ResourceRepo;
  audit: ResourceAudit;
  registry: ResourceRegistry;
  env: 'development' | 'production' | 'test';
  /** GATEHOUSE_RESOURCES */
  envAudiences: readonly string[];
  /** GATEHOUSE_ACCESS_TOKEN_TTL: the default and the ceiling of a resource's token lifetime */
  accessTokenTtl: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw badRequest(describeResourceError(parsed.error), 'invalid_resource');
  return parsed.data;
}

export function createResourceService(deps: ResourceServiceDeps) {
  const { repo, audit, transactions, registry } = deps;
  const fromEnv = (audience: string) => deps.envAudiences.includes(audience);

  const view = (row: ResourceRow): ResourceView => ({
    id: row.id, audience: row.audience, name: row.name, claims: row.claims, scopes: row.scopes,
    ttl: row.access_token_ttl, effective_ttl: Math.min(row.access_token_ttl ?? deps.accessTokenTtl, deps.accessTokenTtl),
    enabled: row.enabled, source: row.source, shadowed: fromEnv(row.audience),
    created_at: new Date(row.created_at).toISOString(), updated_at: new Date(row.updated_at).toISOString(),
  });
  const envView = (audience: string): ResourceView => ({
    id: null, audience, name: audience, claims: [], scopes: [...ENV_RESOURCE_SCOPES], ttl: null, effective_ttl: deps.accessTokenTtl,
    enabled: true, source: 'env', shadowed: false, created_at: null, updated_at: null,
  });
  const readOnly = (audience: string) => conflict(
    `${audience} is defined by GATEHOUSE_RESOURCES and cannot be changed here: change the variable, or remove it there and create the resource here`,
    'env_resource',
  );

  function checkTtl(ttl: number | null | undefined): void {
    if (ttl != null && ttl > deps.accessTokenTtl) {
      throw badRequest(`ttl must be at most GATEHOUSE_ACCESS_TOKEN_TTL (${deps.accessTokenTtl} seconds): signing keys are kept as long as the longest access token lives`, 'invalid_resource');
    }
  }

  /** A stored resource by id or audience; an env-only audience is refused as read-only. */
  async function stored(ref: string): Promise<ResourceRow> {
    const row = UUID.test(ref) ? await repo.find(ref) : await repo.findByAudience(ref);
    if (row) return row;
    if (fromEnv(ref)) throw readOnly(ref);
    throw notFound(`no resource "${ref}"`, 'resource_not_found');
  }

  const changed = () => registry.invalidate(); // this node at once; the others hear the trigger

  return {
    /** Stored resources and GATEHOUSE_RESOURCES entries, by audience. */
    async list(): Promise<ResourceView[]> {
      const rows = (await repo.list()).map(view);
      const envOnly = deps.envAudiences.filter((a) => !rows.some((r) => r.audience === a)).map(envView);
      return [...rows, ...envOnly].sort((a, b) => a.audience.localeCompare(b.audience));
    },

    async show(ref: string): Promise<ResourceView> {
      const row = UUID.test(ref) ? await repo.find(ref) : await repo.findByAudience(ref);
      if (row) return view(row);
      if (fromEnv(ref)) return envView(ref);
      throw notFound(`no resource "${ref}"`, 'resource_not_found');
    },

    async create(input: ResourceCreateInput, source: 'cli' | 'api' | 'console', origin: ResourceOrigin): Promise<ResourceView> {
      const r = parse(resourceCreateSchema, input);
      const problem = audienceProblem(r.audience, deps.env);
      if (problem) throw badRequest(problem, 'invalid_resource');
      if (fromEnv(r.audience)) throw readOnly(r.audience);
      checkTtl(r.ttl);
      const id = randomUUID();
      const row = {
        id, audience: r.audience, source, name: r.name ?? r.audience, claims: r.claims ?? [], scopes: r.scopes ?? [],
        access_token_ttl: r.ttl ?? null, enabled: r.enabled ?? true,
      };
      const created = await transactions.run(async (tx) => {
        if (await repo.findByAudience(r.audience, tx)) throw conflict(`a resource with audience ${r.audience} already exists`, 'resource_exists');
        await repo.insert(row, tx);
        await audit.record({ type: 'resource.created', ...origin, subjectId: id, data: {
          audience: row.audience, name: row.name, claims: row.claims, scopes: row.scopes, ttl: row.access_token_ttl, enabled: row.enabled,
        } }, tx);
        return (await repo.find(id, tx))!;
      }).catch((e) => {
        // two creations of one audience at once: the unique index decides, the loser hears 409
        if ((e as { code?: string }).code === '23505') throw conflict(`a resource with audience ${r.audience} already exists`, 'resource_exists');
        throw e;
      });
      changed();
      return view(created);
    },

    async update(ref: string, input: ResourcePatchInput, origin: ResourceOrigin): Promise<ResourceView> {
      const patch = parse(resourcePatchSchema, input);
      checkTtl(patch.ttl);
      const fields = Object.keys(patch);
      if (!fields.length) throw badRequest('nothing to change: give name, claims, scopes, ttl or enabled', 'invalid_resource');
      const current = await stored(ref);
      // GATEHOUSE_RESOURCES names it too and wins: a change here would be reported and not applied
      if (fromEnv(current.audience)) throw readOnly(current.audience);
      const updated = await transactions.run(async (tx) => {
        await repo.update(current.id, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.claims !== undefined ? { claims: patch.claims } : {}),
          ...(patch.scopes !== undefined ? { scopes: patch.scopes } : {}),
          ...(patch.ttl !== undefined ? { access_token_ttl: patch.ttl } : {}),
          ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        }, tx);
        const after = await repo.find(current.id, tx);
        if (!after) throw notFound(`no resource "${ref}"`, 'resource_not_found'); // removed meanwhile
        await audit.record({ type: 'resource.updated', ...origin, subjectId: current.id, data: { audience: current.audience, fields } }, tx);
        return after;
      });
      changed();
      return view(updated);
    },

    async remove(ref: string, origin: ResourceOrigin): Promise<{ deleted: string; audience: string }> {
      const current = await stored(ref);
      await transactions.run(async (tx) => {
        if (!(await repo.delete(current.id, tx))) throw notFound(`no resource "${ref}"`, 'resource_not_found');
        await audit.record({ type: 'resource.deleted', ...origin, subjectId: current.id, data: { audience: current.audience } }, tx);
      });
      changed();
      return { deleted: current.id, audience: current.audience };
    },
  };
}
export type ResourceService = ReturnType<typeof createResourceService>;
