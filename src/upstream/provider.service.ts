// The registry of upstream identity providers: create, change, remove (audited in the change's
// transaction), the views the operator sees (never a secret), and what the federation flow asks:
// a provider with its secret or key opened (server use only), the buttons an app offers, home-realm
// discovery, the callback URL.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { JWK } from 'jose';
import YAML from 'yaml';
import { z } from 'zod';
import type { SecretBox } from '../security/secretbox.ts';
import type { Queryable, Transactions } from '../storage/transactions.ts';
import { badRequest, conflict, notFound } from '../errors/app-error.ts';
import type { NewProviderRow, ProviderPatch, ProviderRepo, ProviderRow } from './provider.repo.ts';
import type { IdentityRepo } from './identity.repo.ts';
import {
  PRESETS, microsoftIssuer, trustEmailByDefault, isProviderKind,
  type Preset, type ProviderEndpoints, type ProviderKind, type TokenEndpointAuthMethod,
} from './presets.ts';
import {
  DEFAULT_BUTTON_ORDER, defaultDisplayName, describeProblem, providerInputSchema, providerPatchSchema, upstreamUrlProblem,
  type ProviderInput, type ProviderPatchInput, type ProviderSettings,
} from './provider.schema.ts';
import { generateProviderKey } from './provider-keys.ts';

export type { ProviderInput, ProviderPatchInput, ProviderSettings, OrgSyncRule } from './provider.schema.ts';

/** Where a change came from (the audit trail's fields; built by the caller from its request). */
export interface ChangeOrigin {
  actorId: string | null;
  clientId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}
/** The audit trail, as this layer sees it (src/audit/audit.ts, wired in src/root.ts). */
export interface ProviderAudit {
  record(event: { type: string; data?: Record<string, unknown> } & ChangeOrigin, tx?: Queryable): Promise<void>;
}
/** Where a provider was registered from. */
export type ProviderSource = 'cli' | 'api' | 'console' | 'file';

/** What the operator sees: never a secret or a private key. Flat: what GET returns, PATCH accepts. */
export interface ProviderView extends ProviderSettings {
  name: string;
  display_name: string;
  kind: ProviderKind;
  issuer: string | null;
  client_id: string;
  has_client_secret: boolean;
  /** private_key_jwt: the public key to register upstream */
  public_jwks: { keys: JWK[] } | null;
  enabled: boolean;
  source: string;
  /** register this upstream as the redirect URI */
  callback_url: string;
  created_at: string;
  updated_at: string;
}

/** For the federation flow on the server only: the secret or private key opened, endpoints resolved. */
export interface ProviderConfig extends ProviderView {
  preset: Preset;
  client_secret?: string;
  private_jwk?: JWK;
  /** the preset's endpoints with this provider's overrides (OpenID kinds: overrides of discovery only) */
  endpoints: ProviderEndpoints;
  /** the inline SVG, or an image path under /assets */
  icon_svg: string | null;
}

/** What a sign-in page may show about a provider. */
export interface PublicProvider {
  name: string;
  display_name: string;
  kind: ProviderKind;
  /** an inline SVG from the presets, or null when `icon` (an /assets path) is set */
  icon_svg: string | null;
  icon: string | null;
  order: number;
}

export interface ProviderImpact {
  /** users with an identity at this provider (their identities go with it) */
  linked_users: number;
  /** of those, users with no password, no passkey and no other identity: locked out by a removal */
  only_through_provider: number;
}

export interface ProviderServiceDeps {
  repo: ProviderRepo;
  identities: IdentityRepo;
  transactions: Transactions;
  box: SecretBox;
  audit: ProviderAudit;
  /** Gatehouse's own issuer: the callback URL's base */
  issuer: string;
  env: 'development' | 'production' | 'test';
}

const SECRET_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post'];
/** Fields of the input that are columns; the rest is settings. */
const COLUMN_FIELDS = new Set(['name', 'kind', 'display_name', 'issuer', 'client_id', 'client_secret', 'enabled', 'rotate_key']);

const settingsOf = (row: ProviderRow) => row.settings as unknown as ProviderSettings & { public_jwk?: JWK };

function fail(error: z.ZodError): never { throw badRequest(describeProblem(error), 'invalid_provider'); }

export function createProviderService(deps: ProviderServiceDeps) {
  const { repo, identities, transactions, box, audit, env } = deps;
  const callbackUrl = (name: string) => `${deps.issuer}/providers/${name}/callback`;
  const invalid = (message: string) => badRequest(message, 'invalid_provider');

  function view(row: ProviderRow): ProviderView {
    const { public_jwk: publicJwk, ...settings } = settingsOf(row);
    return {
      name: row.name, display_name: row.display_name, kind: row.kind as ProviderKind, issuer: row.issuer, client_id: row.client_id,
      has_client_secret: row.client_secret_encrypted != null,
      public_jwks: publicJwk ? { keys: [publicJwk] } : null,
      enabled: row.enabled, source: row.source, callback_url: callbackUrl(row.name),
      ...settings,
      created_at: new Date(row.created_at).toISOString(), updated_at: new Date(row.updated_at).toISOString(),
    };
  }

  const publicOf = (v: ProviderView): PublicProvider => ({
    name: v.name, display_name: v.display_name, kind: v.kind, order: v.order, icon: v.icon,
    icon_svg: v.icon ? null : PRESETS[v.kind].icon,
  });

  /**
   * A complete registration (an earlier one with a change applied, or a new one) checked as a whole:
   * defaults filled in from the preset, the kind's own rules, the URLs for this environment.
   */
  function resolve(kind: ProviderKind, name: string, input: Record<string, any>): { columns: Pick<NewProviderRow, 'display_name' | 'issuer' | 'client_id' | 'enabled'>; settings: ProviderSettings } {
    const preset = PRESETS[kind];
    if (kind !== 'microsoft' && (input.tenant != null || input.tenants?.length)) throw invalid('tenant and tenants are settings of the microsoft preset only');
    if (kind !== 'google' && input.hosted_domain != null) throw invalid('hosted_domain is a setting of the google preset only');
    let issuer: string | null;
    const tenant = kind === 'microsoft' ? (input.tenant ?? 'common') : null;
    if (kind === 'github') {
      if (input.issuer != null) throw invalid('GitHub is OAuth 2.0, not OpenID: it has no issuer (point endpoints at GitHub Enterprise instead)');
      issuer = null;
    } else if (kind === 'microsoft') {
      issuer = input.issuer ?? microsoftIssuer(tenant!);
    } else {
      issuer = input.issuer ?? preset.defaultIssuer;
      if (!issuer) throw invalid('issuer is required: the provider\'s issuer URL, where /.well-known/openid-configuration is found');
    }
    if (issuer) {
      const problem = upstreamUrlProblem('issuer', issuer, env, true);
      if (problem) throw invalid(problem);
    }
    const endpoints = Object.fromEntries(Object.entries(input.endpoints ?? {}).filter(([, v]) => v != null)) as Record<string, string>;
    for (const [field, value] of Object.entries(endpoints)) {
      const problem = upstreamUrlProblem(`endpoints.${field}`, value, env);
      if (problem) throw invalid(problem);
    }
    const scopes: string[] = input.scopes ?? preset.defaultScopes;
    if (preset.oidc && !scopes.includes('openid')) throw invalid('scopes must include openid for an OpenID provider');
    const method: TokenEndpointAuthMethod = input.token_endpoint_auth_method ?? preset.defaultAuthMethod;
    if (method === 'private_key_jwt' && kind === 'github') throw invalid('GitHub accepts only a client secret (client_secret_post)');
    return {
      columns: {
        display_name: input.display_name ?? defaultDisplayName(kind, name),
        issuer, client_id: input.client_id, enabled: input.enabled ?? true,
      },
      settings: {
        scopes, token_endpoint_auth_method: method,
        // Off by default: a provider that anyone can sign up to (Google, GitHub) would otherwise let
        // anyone with an account there create one here. Turn it on for a company IdP or a public app.
        allow_signup: input.allow_signup ?? false,
        allowed_email_domains: input.allowed_email_domains ?? [],
        trust_email_verified: input.trust_email_verified ?? trustEmailByDefault(kind, issuer),
        trust_mfa: input.trust_mfa ?? false,
        client_ids: input.client_ids ?? [],
        logout_upstream: input.logout_upstream ?? false,
        home_realm_domains: input.home_realm_domains ?? [],
        tenant, tenants: kind === 'microsoft' ? (input.tenants ?? []) : [],
        hosted_domain: kind === 'google' ? (input.hosted_domain ?? null) : null,
        org_sync: input.org_sync ?? [],
        order: input.order ?? DEFAULT_BUTTON_ORDER,
        icon: input.icon ?? null,
        endpoints,
      },
    };
  }

  /** The credentials a registration needs, from what was given and what is stored. */
  async function credentials(method: TokenEndpointAuthMethod, given: { secret?: string; rotateKey?: boolean }, stored?: ProviderRow) {
    if (SECRET_METHODS.includes(method)) {
      if (given.rotateKey) throw invalid('rotate_key applies to private_key_jwt only');
      const sealed = given.secret !== undefined ? box.seal(given.secret) : stored?.client_secret_encrypted ?? null;
      if (!sealed) throw invalid(`${method} needs a client secret (client_secret; on the CLI --client-secret-stdin)`);
      return { client_secret_encrypted: sealed, private_key_encrypted: null, public_jwk: undefined };
    }
    if (given.secret !== undefined) throw invalid('private_key_jwt uses a key pair, not a client secret');
    const storedKey = stored?.private_key_encrypted;
    if (storedKey && !given.rotateKey) return { client_secret_encrypted: null, private_key_encrypted: storedKey, public_jwk: settingsOf(stored).public_jwk };
    const pair = await generateProviderKey();
    return { client_secret_encrypted: null, private_key_encrypted: box.seal(JSON.stringify(pair.privateJwk)), public_jwk: pair.publicJwk };
  }

  /** The current registration in the input's shape (settings flat), for applying a change to it. */
  function asInput(row: ProviderRow): Record<string, unknown> {
    const { public_jwk: _public, ...settings } = settingsOf(row);
    return { display_name: row.display_name, issuer: row.issuer, client_id: row.client_id, enabled: row.enabled, ...settings };
  }

  async function buildNew(input: ProviderInput, source: ProviderSource): Promise<NewProviderRow> {
    const parsed = providerInputSchema.safeParse(input);
    if (!parsed.success) fail(parsed.error);
    const p = parsed.data;
    const { columns, settings } = resolve(p.kind, p.name, p);
    const creds = await credentials(settings.token_endpoint_auth_method, { secret: p.client_secret });
    return {
      id: randomUUID(), name: p.name, kind: p.kind, ...columns, source,
      client_secret_encrypted: creds.client_secret_encrypted, private_key_encrypted: creds.private_key_encrypted,
      settings: { ...settings, ...(creds.public_jwk ? { public_jwk: creds.public_jwk } : {}) } as unknown as Record<string, unknown>,
    };
  }

  async function buildChange(found: ProviderRow, patch: ProviderPatchInput): Promise<{ patch: ProviderPatch; fields: string[] }> {
    const parsed = providerPatchSchema.safeParse(patch);
    if (!parsed.success) fail(parsed.error);
    const p = parsed.data as Record<string, any>;
    const kind = found.kind as ProviderKind;
    const merged: Record<string, any> = { ...asInput(found) };
    for (const [k, v] of Object.entries(p)) {
      if (k === 'client_secret' || k === 'rotate_key') continue;
      // null clears an optional field back to its default
      if (v === null) delete merged[k]; else merged[k] = v;
    }
    // an Entra issuer derived from the tenant follows the tenant
    if (kind === 'microsoft' && p.tenant !== undefined && p.issuer === undefined && found.issuer === microsoftIssuer(settingsOf(found).tenant ?? 'common')) {
      delete merged.issuer;
    }
    // a new kind of authentication starts from the preset's scopes etc. only where not given
    const { columns, settings } = resolve(kind, found.name, merged);
    const creds = await credentials(settings.token_endpoint_auth_method, { secret: p.client_secret, rotateKey: p.rotate_key }, found);
    return {
      fields: Object.keys(p),
      patch: {
        ...columns, client_secret_encrypted: creds.client_secret_encrypted, private_key_encrypted: creds.private_key_encrypted,
        settings: { ...settings, ...(creds.public_jwk ? { public_jwk: creds.public_jwk } : {}) } as unknown as Record<string, unknown>,
      },
    };
  }

  async function mustFind(name: string, db?: Queryable): Promise<ProviderRow> {
    const found = await repo.find(name, db);
    if (!found) throw notFound(`no upstream provider named "${name}"`);
    return found;
  }

  async function impact(name: string, db?: Queryable): Promise<ProviderImpact> {
    return { linked_users: await identities.countForProvider(name, db), only_through_provider: await identities.countOnlyThrough(name, db) };
  }

  async function list(): Promise<ProviderView[]> { return (await repo.list()).map(view); }

  return {
    callbackUrl,

    async create(input: ProviderInput, origin: ChangeOrigin, source: ProviderSource = 'cli'): Promise<ProviderView> {
      const row = await buildNew(input, source);
      await transactions.run(async (tx) => {
        if (await repo.find(row.name, tx)) throw conflict(`an upstream provider named "${row.name}" already exists`, 'provider_exists');
        await repo.insert(row, tx);
        await audit.record({ type: 'provider.created', ...origin, data: { provider: row.name, kind: row.kind, source } }, tx);
      }).catch((e) => {
        if ((e as { code?: string }).code === '23505') throw conflict(`an upstream provider named "${row.name}" already exists`, 'provider_exists');
        throw e;
      });
      return view((await repo.find(row.name))!);
    },

    list,

    /** One provider as the operator sees it (404 when there is none). */
    async show(name: string): Promise<ProviderView> { return view(await mustFind(name)); },

    async update(name: string, patch: ProviderPatchInput, origin: ChangeOrigin): Promise<ProviderView> {
      if (patch && typeof patch === 'object' && ('name' in patch || 'kind' in patch)) {
        throw invalid('name and kind cannot change: the name is in the callback URL registered upstream (remove the provider and add a new one)');
      }
      const found = await mustFind(name);
      const change = await buildChange(found, patch);
      if (change.fields.length === 0) throw invalid('Send at least one field to change.');
      await transactions.run(async (tx) => {
        if (!await repo.update(name, change.patch, tx)) throw notFound(`no upstream provider named "${name}"`);
        await audit.record({ type: 'provider.updated', ...origin, data: { provider: name, fields: change.fields } }, tx);
      });
      return view((await repo.find(name))!);
    },

    /** How many users a removal touches (the console's confirmation, the CLI's refusal). */
    impact: (name: string) => mustFind(name).then(() => impact(name)),

    /**
     * Removes the provider and, by cascade, its identities. Refused while that would leave a user
     * with no way to sign in, unless `force`.
     */
    async remove(name: string, opts: { force?: boolean }, origin: ChangeOrigin): Promise<{ deleted: string } & ProviderImpact> {
      return transactions.run(async (tx) => {
        if (!await repo.findForUpdate(name, tx)) throw notFound(`no upstream provider named "${name}"`);
        const counts = await impact(name, tx);
        if (counts.only_through_provider > 0 && !opts.force) {
          const n = counts.only_through_provider;
          throw conflict(`removing "${name}" would leave ${n} user${n === 1 ? '' : 's'} with no way to sign in (no password, passkey or other linked provider); `
            + `${counts.linked_users} linked user${counts.linked_users === 1 ? '' : 's'} in all. Force the removal to remove it anyway.`, 'provider_in_use');
        }
        await repo.remove(name, tx);
        await audit.record({ type: 'provider.deleted', ...origin, data: { provider: name, identities_removed_for_users: counts.linked_users, forced: !!opts.force } }, tx);
        return { deleted: name, ...counts };
      });
    },

    /** For the federation flow, on the server only: the secret or private key opened. Undefined when unknown. */
    async get(name: string): Promise<ProviderConfig | undefined> {
      const row = await repo.find(name);
      if (!row) return undefined;
      const v = view(row);
      const preset = PRESETS[v.kind];
      return {
        ...v, preset,
        endpoints: { ...(preset.endpoints ?? {}), ...v.endpoints },
        icon_svg: v.icon ? null : preset.icon,
        ...(row.client_secret_encrypted ? { client_secret: box.open(row.client_secret_encrypted) } : {}),
        ...(row.private_key_encrypted ? { private_jwk: JSON.parse(box.open(row.private_key_encrypted)) as JWK } : {}),
      };
    },

    /** The enabled providers an app offers, in button order: public fields only. */
    async offeredTo(clientId: string | undefined): Promise<PublicProvider[]> {
      return (await list())
        .filter((p) => p.enabled && (p.client_ids.length === 0 || (clientId !== undefined && p.client_ids.includes(clientId))))
        .sort((a, b) => a.order - b.order || a.display_name.localeCompare(b.display_name) || a.name.localeCompare(b.name))
        .map(publicOf);
    },

    /** Home-realm discovery: the enabled provider (offered to the app, when given) for an email domain. */
    async byEmailDomain(domain: string, clientId?: string): Promise<PublicProvider | undefined> {
      const d = domain.trim().toLowerCase();
      const found = (await list())
        .filter((p) => p.enabled && p.home_realm_domains.includes(d)
          && (clientId === undefined || p.client_ids.length === 0 || p.client_ids.includes(clientId)))
        .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name))[0];
      return found ? publicOf(found) : undefined;
    },

    /** GATEHOUSE_PROVIDERS_FILE: every entry created or updated by name, all or nothing. */
    async applyFile(path: string, environment: NodeJS.ProcessEnv = process.env): Promise<{ created: string[]; updated: string[]; unchanged: string[] }> {
      const entries = readProvidersFile(path, environment);
      try {
        return await applyEntries(entries);
      } catch (e) {
        // every node applies the file at boot: another node created the same provider a moment ago
        if ((e as { code?: string }).code !== '23505') throw e;
        return applyEntries(entries);
      }
    },
  };

  /** The providers file's entries: planned outside, written in one transaction (all or nothing). */
  async function applyEntries(entries: Array<Record<string, unknown>>): Promise<{ created: string[]; updated: string[]; unchanged: string[] }> {
    const plans: Array<{ name: string; row?: NewProviderRow; change?: { patch: ProviderPatch; fields: string[] } }> = [];
    for (const [i, entry] of entries.entries()) {
      const where = `providers file entry ${i + 1}`;
      try {
        const found = await repo.find(String(entry.name ?? ''));
        if (!found) { plans.push({ name: String(entry.name), row: await buildNew(entry as ProviderInput, 'file') }); continue; }
        const { name: _n, kind, ...patch } = entry;
        if (kind !== undefined && kind !== found.kind) throw invalid(`"${found.name}" is a ${found.kind} provider; its kind cannot change to ${String(kind)}`);
        // fields the file leaves out go back to their defaults: the file is the whole truth
        const full: Record<string, unknown> = Object.fromEntries(Object.keys(asInput(found)).filter((k) => !['client_id'].includes(k)).map((k) => [k, null]));
        delete full.public_jwk;
        const change = await buildChange(found, { ...full, ...patch } as ProviderPatchInput);
        const same = change.patch.display_name === found.display_name && change.patch.issuer === found.issuer
          && change.patch.client_id === found.client_id && change.patch.enabled === found.enabled
          && isDeepStrictEqual(change.patch.settings, found.settings) && found.source === 'file'
          && (patch.client_secret === undefined || (found.client_secret_encrypted != null && box.open(found.client_secret_encrypted) === patch.client_secret))
          && change.patch.private_key_encrypted === found.private_key_encrypted;
        plans.push(same ? { name: found.name } : { name: found.name, change: { ...change, fields: Object.keys(patch) } });
      } catch (e) {
        throw badRequest(`${where} (${String(entry.name ?? 'no name')}): ${(e as Error).message}`, 'invalid_provider');
      }
    }
    const names = plans.map((p) => p.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw badRequest(`the providers file names "${dup}" twice`, 'invalid_provider');
    const fileOrigin: ChangeOrigin = { actorId: null, clientId: null, ip: null, userAgent: 'providers file' };
    await transactions.run(async (tx) => {
      for (const p of plans) {
        if (p.row) {
          await repo.insert(p.row, tx);
          await audit.record({ type: 'provider.created', ...fileOrigin, data: { provider: p.name, kind: p.row.kind, source: 'file' } }, tx);
        } else if (p.change) {
          await repo.update(p.name, { ...p.change.patch, source: 'file' }, tx);
          await audit.record({ type: 'provider.updated', ...fileOrigin, data: { provider: p.name, fields: p.change.fields, source: 'file' } }, tx);
        }
      }
    });
    return {
      created: plans.filter((p) => p.row).map((p) => p.name),
      updated: plans.filter((p) => p.change).map((p) => p.name),
      unchanged: plans.filter((p) => !p.row && !p.change).map((p) => p.name),
    };
  }
}
export type ProviderService = ReturnType<typeof createProviderService>;

const fileSchema = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.object({ providers: z.array(z.record(z.string(), z.unknown())) }).transform((o) => o.providers),
]);

/**
 * Reads a providers file (YAML or JSON): a list, or { providers: [...] }. Secrets come from the
 * environment by name (client_secret_env: GOOGLE_SECRET), never from the file itself, which is
 * meant to live in git. `preset: google` is accepted for `kind: google`.
 */
export function readProvidersFile(path: string, environment: NodeJS.ProcessEnv): Array<Record<string, unknown>> {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw badRequest(`cannot read the providers file ${path}: ${(e as Error).message}`); }
  let doc: unknown;
  try { doc = YAML.parse(text); } catch (e) { throw badRequest(`the providers file ${path} is not valid JSON or YAML: ${(e as Error).message.split('\n')[0]}`); }
  const parsed = fileSchema.safeParse(doc ?? []);
  if (!parsed.success) throw badRequest(`the providers file ${path} must be a list of providers or { providers: [...] }`);
  return parsed.data.map((raw, i) => {
    const where = `providers file entry ${i + 1}${typeof raw.name === 'string' ? ` (${raw.name})` : ''}`;
    const { preset, client_secret_env: secretEnv, ...entry } = raw;
    if ('rotate_key' in entry) throw badRequest(`${where}: rotate_key is a one-off change: use gatehouse providers update --rotate-key`);
    if ('client_secret' in entry) throw badRequest(`${where}: put the secret in an environment variable and name it with client_secret_env, not client_secret (the file belongs in git)`);
    if (preset !== undefined) {
      if (!isProviderKind(preset)) throw badRequest(`${where}: preset must be one of google, microsoft, github, gitlab`);
      if (entry.kind !== undefined && entry.kind !== preset) throw badRequest(`${where}: kind and preset disagree`);
      entry.kind = preset;
    }
    if (secretEnv !== undefined) {
      if (typeof secretEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(secretEnv)) throw badRequest(`${where}: client_secret_env must be the name of an environment variable`);
      const value = environment[secretEnv];
      if (value === undefined || value === '') throw badRequest(`${where}: client_secret_env names ${secretEnv}, which is not set`);
      entry.client_secret = value;
    }
    return entry;
  });
}
