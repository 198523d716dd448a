// The resources the provider serves, in this node's memory: the token path reads them here (one Map
// lookup), never from the database per token. The view merges GATEHOUSE_RESOURCES with the stored
// rows — the variable wins for an audience it names (docs/resources.md, "Precedence") — and keeps
// only enabled resources: a disabled or removed one is unknown, so asking for it is invalid_target.
//
// Kept current: the service invalidates it after each change it commits (this process at once),
// and on Postgres every node LISTENs on RESOURCE_CHANGED_CHANNEL (a trigger sends it for any write,
// the operator CLI's on another host included) and after a reconnect, when notifications may have
// been lost. The embedded database has one process, which makes every change itself. After an
// invalidation the next reader reloads the whole table (it is small) in one query shared by all
// readers; a reload that fails fails the reader (a store failure: 503), never serves the stale view.
import type { Logger } from 'pino';
import type { ResourceRepo, ResourceRow } from './resource.repo.ts';
import { RESOURCE_CHANGED_CHANNEL } from './resource.repo.ts';
import { RESOURCE_CLAIM_NAMES, resourceServerScopes, type ResourceClaim } from './resource.schema.ts';
import { listenChannel } from '../storage/pg-listen.ts';

/** What GATEHOUSE_RESOURCES gives each audience it names (the scopes it has always had). */
export const ENV_RESOURCE_SCOPES = ['read', 'write'];

/** One resource as the provider uses it. */
export interface ResourceServer {
  audience: string;
  name: string;
  /** user claims its access tokens carry when the user granted their scope */
  claims: readonly ResourceClaim[];
  /** its own API scopes */
  scopes: readonly string[];
  /** every scope the provider knows it by (API scopes, `workspace`, the claims' scopes) */
  serverScopes: string;
  /** access-token lifetime, seconds (never above GATEHOUSE_ACCESS_TOKEN_TTL) */
  accessTokenTtl: number;
  source: 'env' | 'stored';
}

export interface ResourceRegistry {
  /** the enabled resource with this audience (the token path: memory, after the first load) */
  find(audience: string): Promise<ResourceServer | undefined>;
  /** everything changed may have changed: the next reader reloads */
  invalidate(): void;
}

export interface RegistrySettings {
  /** GATEHOUSE_RESOURCES */
  envAudiences: readonly string[];
  /** GATEHOUSE_ACCESS_TOKEN_TTL: the default lifetime, and the ceiling (signing keys outlive it) */
  accessTokenTtl: number;
}

const knownClaims = (claims: readonly string[]) => claims.filter((c): c is ResourceClaim => (RESOURCE_CLAIM_NAMES as string[]).includes(c));

export function envResource(audience: string, s: RegistrySettings): ResourceServer {
  const scopes = ENV_RESOURCE_SCOPES;
  return { audience, name: audience, claims: [], scopes, serverScopes: resourceServerScopes({ scopes, claims: [] }).join(' '), accessTokenTtl: s.accessTokenTtl, source: 'env' };
}

export function storedResource(row: ResourceRow, s: RegistrySettings): ResourceServer {
  const claims = knownClaims(row.claims);
  return {
    audience: row.audience, name: row.name, claims, scopes: row.scopes,
    serverScopes: resourceServerScopes({ scopes: row.scopes, claims }).join(' '),
    // a lower GATEHOUSE_ACCESS_TOKEN_TTL set after the resource was saved still bounds it
    accessTokenTtl: Math.min(row.access_token_ttl ?? s.accessTokenTtl, s.accessTokenTtl),
    source: 'stored',
  };
}

/** The view: enabled stored rows, then GATEHOUSE_RESOURCES over them. */
export function mergeResources(rows: readonly ResourceRow[], s: RegistrySettings): Map<string, ResourceServer> {
  const view = new Map<string, ResourceServer>();
  for (const row of rows) if (row.enabled) view.set(row.audience, storedResource(row, s));
  for (const audience of s.envAudiences) view.set(audience, envResource(audience, s));
  return view;
}

export function createResourceRegistry(repo: Pick<ResourceRepo, 'list'>, settings: RegistrySettings): ResourceRegistry {
  let view: Map<string, ResourceServer> | undefined;
  let loading: Promise<Map<string, ResourceServer>> | undefined;
  let generation = 0; // bumped by invalidate: a load started before it must not be kept

  function load(): Promise<Map<string, ResourceServer>> {
    if (loading) return loading;
    const started = generation;
    const pending = repo.list().then((rows) => {
      const fresh = mergeResources(rows, settings);
      if (generation === started) view = fresh;
      return fresh;
    }).finally(() => { if (loading === pending) loading = undefined; });
    loading = pending;
    return pending;
  }

  return {
    async find(audience) {
      return (view ?? await load()).get(audience);
    },
    invalidate() {
      generation++;
      view = undefined;
      loading = undefined;
    },
  };
}

/** Every node listens, so a resource changed anywhere reaches every node's view at once. */
export function listenForResourceChanges(databaseUrl: string, registry: ResourceRegistry, log: Logger): { stop(): Promise<void> } {
  return listenChannel(databaseUrl, RESOURCE_CHANGED_CHANNEL, { onPayload: () => registry.invalidate(), onGap: () => registry.invalidate() }, log);
}
