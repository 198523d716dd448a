// One composition root (src/root.ts): every repository and service is built once per root, and
// nothing else builds one, whether the server boots, answers requests, runs an operator command
// over its control socket, or the CLI runs a command on its own.
//
// A runtime check, not a grep: each factory module below is replaced by itself with its factories
// wrapped in a counter (jest.unstable_mockModule, before any of src/ is loaded), so a construction
// anywhere — a router building its own audit, an operation its own admin service, a second adapter
// factory re-registering its Redis scripts — shows up as a count of 2, whichever way it is spelled.
// The real server then boots on a temporary embedded database. A factory that stops being called
// at all (renamed, or bypassed) shows up as 0: the table must follow the code.
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import pino from 'pino';
import { tempDir, testConfig } from '../support/stores.ts';

/** Each module that builds a service or repository, and the factories in it (relative to this file). */
const FACTORIES: Record<string, string[]> = {
  '../../src/audit/audit.repo.ts': ['createAuditRepo'],
  '../../src/audit/audit.ts': ['createAudit'],
  '../../src/accounts/account.repo.ts': ['createAccountRepo'],
  '../../src/accounts/account.service.ts': ['createAccountService'],
  '../../src/accounts/account-cache.ts': ['createAccountCache', 'noAccountCache'],
  '../../src/accounts/account-session.repo.ts': ['createAccountSessionRepo'],
  '../../src/accounts/mail-token.repo.ts': ['createMailTokenRepo'],
  '../../src/accounts/mail-tokens.ts': ['createMailTokens'],
  '../../src/accounts/lifecycle.ts': ['createLifecycle'],
  '../../src/accounts/profile.service.ts': ['createProfileService'],
  '../../src/accounts/pages/account-sign-in.ts': ['createAccountSession'],
  '../../src/mfa/index.ts': ['createMfaRepos', 'createMfa'],
  '../../src/clients/client.repo.ts': ['createClientRepo'],
  '../../src/clients/client.service.ts': ['createClientService'],
  '../../src/clients/client-changes.ts': ['createClientChangeFeed'],
  '../../src/clients/client-origins.ts': ['createClientOrigins'],
  '../../src/keys/key.repo.ts': ['createKeyRepo'],
  '../../src/keys/key.service.ts': ['createKeyService'],
  '../../src/resources/resource.repo.ts': ['createResourceRepo'],
  '../../src/resources/resource-registry.ts': ['createResourceRegistry'],
  '../../src/resources/resource.service.ts': ['createResourceService'],
  '../../src/upstream/provider.repo.ts': ['createProviderRepo'],
  '../../src/upstream/identity.repo.ts': ['createIdentityRepo'],
  '../../src/upstream/provider.service.ts': ['createProviderService'],
  '../../src/workspaces/workspace.repo.ts': ['createWorkspaceRepo'],
  '../../src/workspaces/workspace.service.ts': ['createWorkspaceService'],
  '../../src/workspaces/invitation.service.ts': ['createInvitationService'],
  '../../src/workspaces/membership-cache.ts': ['createMembershipCache', 'noMembershipCache'],
  '../../src/federation/org-sync.ts': ['createOrgSync'],
  '../../src/federation/identities.service.ts': ['createIdentities'],
  '../../src/federation/index.ts': ['createFederation'],
  '../../src/admin/admin.service.ts': ['createAdminService'],
  '../../src/admin/impersonation.ts': ['createImpersonation'],
  '../../src/oidc/adapters/oidc-record.repo.ts': ['createOidcRecordRepo'],
  '../../src/oidc/adapters/sql-adapter.ts': ['createSqlAdapterFactory'],
  '../../src/oidc/adapters/redis-adapter.ts': ['createRedisAdapterFactory'],
  '../../src/oidc/adapters/client-adapter.ts': ['createClientAdapter'],
  '../../src/oidc/facade.ts': ['createProviderFacade'],
  '../../src/oidc/host.ts': ['createProviderHost'],
  '../../src/security/rate-limit.ts': ['createLimiterFactory'],
  '../../src/security/device-cookie.ts': ['createDeviceCookies'],
  '../../src/render/views.ts': ['createViews'],
  '../../src/mail/mailer.ts': ['createMailer'],
  '../../src/webhooks/webhook.repo.ts': ['createWebhookRepo'],
  '../../src/webhooks/outbox.ts': ['createOutbox'],
  '../../src/webhooks/delivery.ts': ['createDelivery'],
  '../../src/webhooks/webhook.service.ts': ['createWebhookService'],
  '../../src/admin/webhooks.manage.ts': ['createWebhookAdmin'],
  '../../src/transfer/transfer.repo.ts': ['createTransferRepo'],
  '../../src/transfer/import.service.ts': ['createImportService'],
  '../../src/transfer/export.service.ts': ['createExportService'],
};

/** Pairs of which a root builds exactly one, whichever (e.g. the embedded store has no account cache to keep). */
const EITHER: Array<[string, string]> = [
  ['createAccountCache', 'noAccountCache'],
  ['createMembershipCache', 'noMembershipCache'],
  // the provider's short-lived records: Redis when configured, else SQL — one factory either way
  ['createSqlAdapterFactory', 'createRedisAdapterFactory'],
];

const counts = new Map<string, number>();
for (const [path, names] of Object.entries(FACTORIES)) {
  const actual = await import(path) as Record<string, unknown>;
  const counted: Record<string, unknown> = { ...actual };
  for (const name of names) {
    const real = actual[name];
    if (typeof real !== 'function') throw new Error(`${path} no longer exports ${name}: update this table`);
    counts.set(name, 0);
    counted[name] = (...args: unknown[]) => { counts.set(name, counts.get(name)! + 1); return (real as (...a: unknown[]) => unknown)(...args); };
  }
  jest.unstable_mockModule(path, () => counted);
}
const { startServer } = await import('../../src/server.ts');
const { runOp } = await import('../../src/cli/operator-stores.ts');
const { callControl } = await import('../../src/ops/control.ts');
const { controlSocketPath } = await import('../../src/storage/lock.ts');

/** The counts, with each EITHER pair folded into one entry. */
function built(): Record<string, number> {
  const out = Object.fromEntries(counts);
  for (const [a, b] of EITHER) { out[`${a} | ${b}`] = out[a]! + out[b]!; delete out[a]; delete out[b]; }
  return out;
}
const every = (n: number, except: Record<string, number> = {}) => ({ ...Object.fromEntries(Object.keys(built()).map((k) => [k, n])), ...except });

describe('one composition root', () => {
  const dir = tempDir('gh-composition-');
  const config = testConfig({ dataDir: dir.path, env: { PORT: '0' } });
  afterAll(() => dir.remove());

  it('the server builds each service once: at boot, answering requests, and running operator commands', async () => {
    const server = await startServer(config, pino({ level: 'silent' }));
    try {
      expect(built()).toEqual(every(1));

      // requests through every area: health, the provider, the hosted pages, the console, the APIs
      for (const path of ['/healthz', '/readyz', '/.well-known/openid-configuration', '/jwks', '/account', '/account/sessions', '/admin', '/api/me', '/api/admin/users', '/api/workspaces']) {
        const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
        expect(res.status).toBeLessThan(500);
      }
      // operator commands while the server holds the embedded database: over its control socket
      // (what runOp does from another process), on the server's root; these used to build an
      // adapter factory, an mfa, an admin service and audits of their own, each time
      const op = (name: string, args: Record<string, unknown>) => callControl(controlSocketPath(config.dataDir), name, args);
      const user = await op('users.create', { email: 'composition@example.test', password: 'a long and unusual passphrase' }) as { id: string };
      await op('users.disable', { user: user.id });
      await op('users.enable', { user: user.id });
      await op('keys.rotate', { alg: 'ES256' });
      expect(built()).toEqual(every(1));
    } finally {
      await server.close();
    }
  });

  it('a CLI command with no server running builds one root of its own, and no provider', async () => {
    for (const name of counts.keys()) counts.set(name, 0);
    const users = await runOp(config, 'users.list', {}) as Array<{ email: string; disabled: boolean }>;
    expect(users).toEqual([expect.objectContaining({ email: 'composition@example.test', disabled: false })]);
    await runOp(config, 'users.require-mfa', { user: 'composition@example.test' });
    expect(built()).toEqual(every(2, { createProviderHost: 0 })); // two commands, two roots
  });
});
