// THE composition root: every repository and service of Gatehouse is built here, once, from the open
// stores and the config (Logto's explicit wiring: repositories from the database handle, services
// from repositories; no module-level singletons). The server (src/server.ts), the control socket
// and the CLI (src/ops/, src/cli/) build the same root; src/app.ts hands each router the typed slice
// it uses, never the root itself. Nothing below this file constructs a service another module also
// constructs: tests/unit/composition.test.ts counts the constructions.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import type { Database } from './storage/database.ts';
import { createTransactions } from './storage/transactions.ts';
import { databaseProbe } from './storage/instrument.ts';
import { createSecretBox } from './security/secretbox.ts';
import { createLimiterFactory } from './security/rate-limit.ts';
import { createDeviceCookies } from './security/device-cookie.ts';
import { createViews } from './render/views.ts';
import { createMailer } from './mail/mailer.ts';
import { createAuditRepo } from './audit/audit.repo.ts';
import { createAudit } from './audit/audit.ts';
import { createOutbox, createWebhookRepo, createWebhooks } from './webhooks/index.ts';
import { createAccountRepo } from './accounts/account.repo.ts';
import { createAccountService } from './accounts/account.service.ts';
import { createAccountCache, noAccountCache } from './accounts/account-cache.ts';
import { createAccountSessionRepo, sessionLogFor } from './accounts/account-session.repo.ts';
import { createMailTokenRepo } from './accounts/mail-token.repo.ts';
import { createMailTokens } from './accounts/mail-tokens.ts';
import { createLifecycle } from './accounts/lifecycle.ts';
import { createProfileService } from './accounts/profile.service.ts';
import { accountsForOidc } from './accounts/account.oidc-port.ts';
import { createAccountSession } from './accounts/pages/account-sign-in.ts';
import { createMfa, createMfaRepos } from './mfa/index.ts';
import { createClientRepo } from './clients/client.repo.ts';
import { createClientService } from './clients/client.service.ts';
import { createClientChangeFeed } from './clients/client-changes.ts';
import { createClientOrigins } from './clients/client-origins.ts';
import { createKeyRepo } from './keys/key.repo.ts';
import { createKeyService } from './keys/key.service.ts';
import { createProviderRepo } from './upstream/provider.repo.ts';
import { createIdentityRepo } from './upstream/identity.repo.ts';
import { createProviderService } from './upstream/provider.service.ts';
import { createResourceRepo } from './resources/resource.repo.ts';
import { createResourceRegistry } from './resources/resource-registry.ts';
import { createResourceService } from './resources/resource.service.ts';
import { createWorkspaceRepo } from './workspaces/workspace.repo.ts';
import { createWorkspaces } from './workspaces/index.ts';
import { workspacesForOidc } from './workspaces/workspace.oidc-port.ts';
import { createOrgSync } from './federation/org-sync.ts';
import { createIdentities } from './federation/identities.service.ts';
import { createFederation } from './federation/index.ts';
import { createAdminService } from './admin/admin.service.ts';
import { createWebhookAdmin } from './admin/webhooks.manage.ts';
import { createImpersonation, impersonationPolicy } from './admin/impersonation.ts';
import { createAdapterFactory, createOidc } from './oidc/index.ts';
import { createOidcRecordRepo } from './oidc/adapters/oidc-record.repo.ts';
import { createTransferRepo } from './transfer/transfer.repo.ts';
import { createImportService } from './transfer/import.service.ts';
import { createExportService } from './transfer/export.service.ts';
import { createSetupRepo } from './setup/setup.repo.ts';
import { createSetup } from './setup/setup.service.ts';

/** What the root is built from: the stores the caller opened (and closes), the config, the log. */
export interface RootInputs {
  config: Config;
  db: Database;
  /** Redis when configured: the provider's short-lived records and the rate-limit counters */
  redis?: Redis;
  log: Logger;
}

/** The name the hosted pages, mails and authenticator apps show. */

export function createRoot({ config, db, redis, log }: RootInputs) {
  const { knex } = db;
  const transactions = createTransactions(knex);
  const box = createSecretBox(config.secret, 'gatehouse data encryption');

  // repositories: the only SQL
  const auditRepo = createAuditRepo(knex);
  const webhookRepo = createWebhookRepo(knex);
  const accountRepo = createAccountRepo(knex);
  const accountSessionRepo = createAccountSessionRepo(knex);
  const mailTokenRepo = createMailTokenRepo(knex);
  const clientRepo = createClientRepo(knex);
  const keyRepo = createKeyRepo(knex);
  const providerRepo = createProviderRepo(knex);
  const identityRepo = createIdentityRepo(knex);
  const resourceRepo = createResourceRepo(knex);
  const workspaceRepo = createWorkspaceRepo(knex);
  const mfaRepos = createMfaRepos(knex);
  const oidcRecordRepo = createOidcRecordRepo(knex);
  const transferRepo = createTransferRepo(knex);

  // short-lived records (the provider's, passkey challenges, lifecycle throttles) and counters:
  // Redis when configured, else the database. One adapter factory, so its Redis scripts are
  // registered once per connection.
  const adapters = createAdapterFactory({ redis, redisPrefix: config.redisPrefix, records: oidcRecordRepo });
  const limiters = createLimiterFactory(redis, config.redisPrefix);
  const deviceCookies = createDeviceCookies({ secret: config.secret, secure: config.issuer.startsWith('https:') });
  const views = createViews({ cache: config.env === 'production', brand: config.brand });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir, views, log });

  // the webhook outbox writes in the transaction of every audited change (src/webhooks/outbox.ts)
  const outbox = createOutbox(webhookRepo);
  const audit = createAudit(auditRepo, [outbox.sink]);
  const { webhooks, webhookDelivery } = createWebhooks({ repo: webhookRepo, outbox, transactions, box, audit, log }, {
    ...config.webhooks, strict: config.env === 'production',
  });
  const accounts = createAccountService({ repo: accountRepo, transactions });
  // the token hot path reads accounts and workspace memberships from memory when Postgres can tell
  // us of changes (the server LISTENs; see src/server.ts)
  const cacheMs = db.kind === 'postgres' ? config.accountCacheSeconds * 1000 : 0;
  const accountCache = cacheMs > 0 ? createAccountCache(accounts.findActive, cacheMs) : noAccountCache(accounts.findActive);
  const clientChanges = createClientChangeFeed(clientRepo, db.kind);
  const clients = createClientService({ transactions, repo: clientRepo, box, onChange: clientChanges.publish });
  const clientOrigins = createClientOrigins(clients, clientChanges);
  // A retired key must outlive every token it signed: the longest JWT lifetime we issue.
  const maxTokenLifetimeSeconds = () => Math.max(config.ttl.accessToken, config.ttl.idToken);
  const keys = createKeyService({ transactions, repo: keyRepo, box, timing: {
    maxTokenLifetimeSeconds, refreshSeconds: config.keyRefreshSeconds, activationDelaySeconds: config.keyActivationDelaySeconds,
  } });
  // resources (APIs): the provider reads them from this node's memory (a resource's token lifetime
  // never exceeds GATEHOUSE_ACCESS_TOKEN_TTL, so the key lifetime above stays the bound)
  const resourceSettings = { envAudiences: config.resources, accessTokenTtl: config.ttl.accessToken };
  const resourceRegistry = createResourceRegistry(resourceRepo, resourceSettings);
  const resources = createResourceService({ transactions, repo: resourceRepo, audit, registry: resourceRegistry, env: config.env, ...resourceSettings });
  // upstream identity providers: the registry the federation flow reads (src/upstream/)
  const providers = createProviderService({ repo: providerRepo, identities: identityRepo, transactions, box, audit, issuer: config.issuer, env: config.env });
  const { workspaces, invitations, membershipCache } = createWorkspaces({ transactions, repo: workspaceRepo, accounts, accountRepo, audit }, { cacheMs });
  // organisation sync: federation's sign-in transaction calls it (src/federation/org-sync.ts)
  const orgSync = createOrgSync({ repo: workspaceRepo, workspaces, cache: membershipCache, log });
  // the identities linked to an account, as /account/identities shows and unlinks them
  const identities = createIdentities({ transactions, identities: identityRepo, providers, users: accountRepo, audit });
  const mfa = createMfa({ repos: mfaRepos, transactions, box, adapters, issuer: config.issuer, productName: config.brand.name });
  const mailTokens = createMailTokens({ repo: mailTokenRepo, transactions });
  const lifecycle = createLifecycle({
    transactions, accounts, users: accountRepo, sessions: accountSessionRepo, tokens: mailTokens, mailer, audit, adapters, issuer: config.issuer, log,
  });
  const profile = createProfileService({ accounts: accountRepo, audit, transactions });
  // what the CLI, admin API and console do with webhook endpoints (workspaces by slug, the log's shape)
  const webhookAdmin = createWebhookAdmin({ webhooks, workspaces: workspaceRepo });
  const admin = createAdminService({
    transactions, accounts: accountRepo, auditEvents: auditRepo, sessions: accountSessionRepo, audit, adapters, mfa,
    accountService: accounts, lifecycle,
  });
  // the migration kit (src/transfer/): users in and out, with their ids, hashes, workspaces and identities
  const userImport = createImportService({ repo: transferRepo, identities: identityRepo, transactions, audit, box });
  const userExport = createExportService({ repo: transferRepo, audit, box });
  // first run: the one-time setup link and the first administrator (src/setup/)
  const setup = createSetup({ repo: createSetupRepo(knex), accounts, accountRepo, transactions, audit, adapters });

  // The provider side. Its facade reads the live provider, which startProvider() builds once the
  // signing keys exist (src/server.ts: after keys.ensureKeys); the services over the facade are
  // built now and call it only while answering requests.
  const provider = createOidc({
    config, redis, adapters, clients, clientChanges, keys, views, log,
    // the ports of src/oidc/ports.ts
    accounts: accountsForOidc(accounts, accountCache),
    workspaces: workspacesForOidc(workspaces),
    resources: resourceRegistry,
    sessionLog: sessionLogFor(accountSessionRepo),
  });
  const oidc = provider.facade;
  const impersonation = createImpersonation({ oidc, auditEvents: auditRepo, accounts, audit, policy: impersonationPolicy(config), adapters });
  const accountSession = createAccountSession({ oidc, accounts, issuer: config.issuer });
  // signing in through upstream providers (src/federation/): its routes, and the port the hosted sign-in uses
  const federation = createFederation({
    issuer: config.issuer, providers, identities: identityRepo, users: accountRepo, transactions, audit, orgSync, adapters, oidc,
    sessionTtlSeconds: config.ttl.session,
  });

  return {
    config, db, redis, log, transactions, box,
    /** the health checks' question to the database */
    probeDatabase: databaseProbe(knex),
    auditRepo, accountRepo, accountSessionRepo, mailTokenRepo, clientRepo, keyRepo, workspaceRepo, mfaRepos, oidcRecordRepo,
    providerRepo, identityRepo, providers,
    adapters, limiters, deviceCookies, views, mailer,
    audit, accounts, accountCache, clients, clientChanges, clientOrigins, keys, resourceRepo, resourceRegistry, resources,
    workspaces, invitations, membershipCache, orgSync, identities, mfa, mailTokens, lifecycle, profile, admin,
    oidc, cookieKeys: provider.cookieKeys, impersonation, accountSession, federation,
    /** webhooks: the operator's endpoints (CLI, admin API, console); the server starts the delivery loop */
    webhookRepo, outbox, webhooks, webhookDelivery, webhookAdmin,
    transferRepo, userImport, userExport,
    setup,
    /** Builds the provider (the signing keys must exist) and keeps it current; once per root. */
    startProvider: () => provider.start({ impersonation, upstreamLogout: federation.upstreamLogout }),
  };
}
export type Root = ReturnType<typeof createRoot>;
