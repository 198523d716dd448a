// OAuth clients live in Postgres. The provider reads them through the Client adapter
// (src/oidc/adapters/client-adapter.ts); operators create them from the CLI, a clients file or the API.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { z } from 'zod';
import type { ClientRepo, ClientRow } from './client.repo.ts';
import { clientInputSchema, describeZodError, type ClientInput, type ValidClientInput } from './client.schema.ts';
import type { SecretBox } from '../security/secretbox.ts';
import type { Transactions } from '../storage/transactions.ts';
import { badRequest, conflict, notFound } from '../errors/app-error.ts';

const SECRET_BYTES = 32; // 256 bits
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';
/**
 * Clients Gatehouse itself depends on (written at every boot, `source: 'system'`): the account
 * pages and the console sign in through them. No interface may delete, change or re-key them —
 * deleting `gatehouse-account` would break /account and /admin for everyone until a restart.
 */
export const BUILT_IN_CLIENT_IDS: readonly string[] = [ACCOUNT_CLIENT_ID];
const isBuiltIn = (clientId: string, source?: string) => source === 'system' || BUILT_IN_CLIENT_IDS.includes(clientId);
/** The refusal every interface shows (API: 409 built_in_client; CLI: the sentence, exit code 2; console: a page). */
const builtInRefusal = (clientId: string, what: string) => conflict(
  `"${clientId}" is a built-in client: Gatehouse's own account pages and admin console sign in through it, so it cannot be ${what}. Register a client of your own instead.`,
  'built_in_client',
);

export interface ClientView {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  require_mfa: boolean;
  require_email_verification: boolean;
  /** the sign-in page offers a password (false: upstream providers only) */
  password_sign_in: boolean;
  resource_server_for: string[];
  /** who may sign up on its sign-in page; absent: GATEHOUSE_SIGNUP */
  signup_policy?: 'open' | 'invitation' | 'closed';
  logo_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
  /** part of Gatehouse itself (BUILT_IN_CLIENT_IDS): shown, never changed, re-keyed or deleted */
  built_in: boolean;
  created_at: string;
}

/** 128 random bits, base64url, never starting with "-" or "_": an id that starts with "-" reads as an option to a command line (`gatehouse clients show -Xy…`). */
export function newClientId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

function toMetadata(clientId: string, c: ValidClientInput): Record<string, unknown> {
  const interactive = c.grant_types.includes('authorization_code');
  return {
    client_id: clientId,
    client_name: c.name,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    response_types: interactive ? ['code'] : [],
    token_endpoint_auth_method: c.public ? 'none' : 'client_secret_basic',
    scope: c.scope,
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    application_type: c.redirect_uris.some((u) => !/^https?:/.test(u)) ? 'native' : 'web',
    require_mfa: c.require_mfa,
    require_email_verification: c.require_email_verification,
    password_sign_in: c.password_sign_in,
    resource_server_for: c.resource_server_for,
    // unset: GATEHOUSE_SIGNUP and no logo or links (src/interactions/app-view.ts)
    ...(c.signup_policy ? { signup_policy: c.signup_policy } : {}),
    ...(c.logo_uri ? { logo_uri: c.logo_uri } : {}),
    ...(c.policy_uri ? { policy_uri: c.policy_uri } : {}),
    ...(c.tos_uri ? { tos_uri: c.tos_uri } : {}),
  };
}

function view(row: ClientRow): ClientView {
  const m = row.metadata as Record<string, any>;
  return {
    client_id: row.client_id,
    client_name: row.name,
    redirect_uris: m.redirect_uris ?? [],
    post_logout_redirect_uris: m.post_logout_redirect_uris ?? [],
    grant_types: m.grant_types ?? [],
    scope: m.scope ?? '',
    token_endpoint_auth_method: m.token_endpoint_auth_method,
    id_token_signed_response_alg: m.id_token_signed_response_alg ?? 'RS256',
    require_mfa: m.require_mfa === true,
    require_email_verification: m.require_email_verification === true,
    password_sign_in: m.password_sign_in !== false,
    resource_server_for: Array.isArray(m.resource_server_for) ? m.resource_server_for : [],
    ...(m.signup_policy ? { signup_policy: m.signup_policy } : {}),
    ...(m.logo_uri ? { logo_uri: m.logo_uri } : {}),
    ...(m.policy_uri ? { policy_uri: m.policy_uri } : {}),
    ...(m.tos_uri ? { tos_uri: m.tos_uri } : {}),
    built_in: isBuiltIn(row.client_id, row.source),
    created_at: new Date(row.created_at).toISOString(),
  };
}

function parse(input: ClientInput): ValidClientInput {
  const parsed = clientInputSchema.safeParse(input);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error), 'invalid_client_metadata');
  return parsed.data;
}

/**
 * `${NAME}` in a clients file's values is replaced by the environment variable NAME (for secrets).
 * Substituted after parsing, so a value can never inject YAML.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw badRequest(`the clients file refers to \${${name}}, which is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

const fileSchema = z.union([z.array(z.unknown()), z.object({ clients: z.array(z.unknown()) }).transform((o) => o.clients)]);

export function createClientService(deps: { transactions: Transactions; repo: ClientRepo; box: SecretBox; onChange?: (clientId: string) => void }) {
  const { repo, box, transactions } = deps;
  const changed = (id: string) => deps.onChange?.(id);

  function row(clientId: string, c: ValidClientInput, secret: string | undefined, source: string) {
    return {
      client_id: clientId,
      name: c.name,
      client_secret_encrypted: secret ? box.seal(secret) : null,
      metadata: toMetadata(clientId, c),
      source,
    };
  }

  return {
    async create(input: ClientInput): Promise<ClientView & { client_secret?: string }> {
      const c = parse(input);
      const clientId = c.client_id ?? newClientId();
      if (isBuiltIn(clientId)) throw builtInRefusal(clientId, 'registered again');
      const secret = c.public ? undefined : (c.client_secret ?? randomBytes(SECRET_BYTES).toString('base64url'));
      if (await repo.find(clientId)) throw conflict(`a client with client_id "${clientId}" already exists`);
      await repo.insert(row(clientId, c, secret, 'cli'));
      changed(clientId); // a new client's redirect URIs are new CORS origins on every node
      const created = view((await repo.find(clientId))!);
      return secret ? { ...created, client_secret: secret } : created;
    },

    async list(): Promise<ClientView[]> { return (await repo.list()).map(view); },

    async show(clientId: string): Promise<ClientView> {
      const found = await repo.find(clientId);
      if (!found) throw notFound(`no client with client_id "${clientId}"`);
      return view(found);
    },

    /** Changes a client's registration; what is not given stays; the secret is kept. */
    async update(clientId: string, patch: Partial<ClientInput>): Promise<ClientView> {
      const found = await repo.find(clientId);
      if (!found) throw notFound(`no client with client_id "${clientId}"`);
      if (isBuiltIn(clientId, found.source)) throw builtInRefusal(clientId, 'changed');
      const current = view(found);
      const c = parse({
        client_id: clientId, name: current.client_name, redirect_uris: current.redirect_uris,
        post_logout_redirect_uris: current.post_logout_redirect_uris, grant_types: current.grant_types, scope: current.scope,
        public: current.token_endpoint_auth_method === 'none', id_token_signed_response_alg: current.id_token_signed_response_alg as 'RS256',
        require_mfa: current.require_mfa, require_email_verification: current.require_email_verification, password_sign_in: current.password_sign_in,
        resource_server_for: current.resource_server_for, signup_policy: current.signup_policy,
        logo_uri: current.logo_uri, policy_uri: current.policy_uri, tos_uri: current.tos_uri, ...patch,
      });
      await repo.updateRegistration(clientId, { name: c.name, metadata: toMetadata(clientId, c) });
      changed(clientId);
      return view((await repo.find(clientId))!);
    },

    async delete(clientId: string): Promise<void> {
      const found = await repo.find(clientId);
      if (found && isBuiltIn(clientId, found.source)) throw builtInRefusal(clientId, 'deleted');
      if (!found || !(await repo.delete(clientId))) throw notFound(`no client with client_id "${clientId}"`);
      changed(clientId);
    },

    async rotateSecret(clientId: string): Promise<{ client_id: string; client_secret: string }> {
      const found = await repo.find(clientId);
      if (!found) throw notFound(`no client with client_id "${clientId}"`);
      if (isBuiltIn(clientId, found.source)) throw builtInRefusal(clientId, 'given a secret');
      if (found.metadata.token_endpoint_auth_method === 'none') throw badRequest('a public client has no secret to rotate');
      const secret = randomBytes(SECRET_BYTES).toString('base64url');
      await repo.setSecret(clientId, box.seal(secret));
      changed(clientId);
      return { client_id: clientId, client_secret: secret };
    },

    /** GATEHOUSE_CLIENTS_FILE: every entry upserted by client_id, all or nothing. */
    async applyFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch (e) { throw badRequest(`cannot read the clients file ${path}: ${(e as Error).message}`); }
      let doc: unknown;
      try { doc = YAML.parse(text); } catch (e) { throw badRequest(`the clients file ${path} is not valid JSON or YAML: ${(e as Error).message}`); }
      doc = interpolate(doc, env);
      const entries = fileSchema.safeParse(doc);
      if (!entries.success) throw badRequest(`the clients file ${path} must be a list of clients or { clients: [...] }`);
      const rows = entries.data.map((entry, i) => {
        const e = entry as Record<string, unknown>;
        const input = { ...e, scope: e.scope ?? (Array.isArray(e.scopes) ? e.scopes.join(' ') : e.scopes) } as ClientInput;
        delete (input as Record<string, unknown>).scopes;
        const parsed = clientInputSchema.safeParse(input);
        if (!parsed.success) throw badRequest(`clients file entry ${i + 1}: ${describeZodError(parsed.error)}`);
        const c = parsed.data;
        if (!c.client_id) throw badRequest(`clients file entry ${i + 1}: client_id is required`);
        if (isBuiltIn(c.client_id)) throw builtInRefusal(c.client_id, 'defined in a clients file');
        if (!c.public && !c.client_secret) throw badRequest(`clients file entry ${i + 1}: a confidential client needs client_secret (or public: true)`);
        return row(c.client_id, c, c.client_secret, 'file');
      });
      await transactions.run(async (tx) => { for (const r of rows) await repo.upsert(r, tx); });
      rows.forEach((r) => changed(r.client_id));
      return rows.map((r) => r.client_id);
    },

    /**
     * The hosted account pages sign users in through the provider like any app: as this
     * first-party public client (PKCE, one exact redirect URI, consent implied).
     */
    async ensureSystemClient(issuer: string): Promise<boolean> {
      const c = parse({ client_id: ACCOUNT_CLIENT_ID, name: 'Your account', public: true, grant_types: ['authorization_code'],
        redirect_uris: [`${issuer}/account/callback`], post_logout_redirect_uris: [`${issuer}/account`, `${issuer}/account/signed-out`, `${issuer}/admin/signed-out`], scope: 'openid' });
      const wanted = row(ACCOUNT_CLIENT_ID, c, undefined, 'system');
      // Every node runs this at boot: write (and tell every node) only when something differs, so
      // ten nodes booting do not rewrite the row ten times and empty each other's client caches.
      const found = await repo.find(ACCOUNT_CLIENT_ID);
      if (found && found.name === wanted.name && found.source === wanted.source && found.client_secret_encrypted == null
        && isDeepStrictEqual(found.metadata, wanted.metadata)) return false;
      await repo.upsert(wanted);
      changed(ACCOUNT_CLIENT_ID);
      return true;
    },

    /** For the provider's Client adapter: metadata with the secret opened. */
    async providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
      const found = await repo.find(clientId);
      if (!found) return undefined;
      return found.client_secret_encrypted
        ? { ...found.metadata, client_secret: box.open(found.client_secret_encrypted) }
        : { ...found.metadata };
    },
  };
}
export type ClientService = ReturnType<typeof createClientService>;
