// Explicit wiring: repositories → services, from the open stores. The server and the CLI build the
// same container; nothing is a module-level singleton.
import type { Redis } from 'ioredis';
import type { Config } from './config/index.ts';
import type { Database } from './storage/database.ts';
import { createSecretBox } from './security/secretbox.ts';
import { createAccountRepo } from './accounts/account.repo.ts';
import { createAccountService } from './accounts/account.service.ts';
import { createAccountCache, noAccountCache } from './accounts/account-cache.ts';
import { createClientRepo } from './clients/client.repo.ts';
import { createClientService } from './clients/client.service.ts';
import { createClientChangeFeed } from './clients/client-changes.ts';
import { createKeyRepo } from './keys/key.repo.ts';
import { createKeyService } from './keys/key.service.ts';
import { createWorkspaces } from './workspaces/index.ts';

export function createContainer(config: Config, db: Database, redis?: Redis) {
  const { knex } = db;
  const box = createSecretBox(config.secret, 'gatehouse data encryption');
  const accounts = createAccountService({ knex, repo: createAccountRepo(knex) });
  // the token hot path reads accounts and workspace memberships from memory when Postgres can tell
  // us of changes (the server LISTENs; see src/server.ts)
  const cacheMs = db.kind === 'postgres' ? config.accountCacheSeconds * 1000 : 0;
  const accountCache = cacheMs > 0 ? createAccountCache(accounts.findActive, cacheMs) : noAccountCache(accounts.findActive);
  const clientChanges = createClientChangeFeed(knex, db.kind);
  const clients = createClientService({ knex, repo: createClientRepo(knex), box, onChange: clientChanges.publish });
  // A retired key must outlive every token it signed: the longest JWT lifetime we issue.
  const maxTokenLifetimeSeconds = () => Math.max(config.ttl.accessToken, config.ttl.idToken);
  const keys = createKeyService({ knex, repo: createKeyRepo(knex), box, timing: {
    maxTokenLifetimeSeconds, refreshSeconds: config.keyRefreshSeconds, activationDelaySeconds: config.keyActivationDelaySeconds,
  } });
  const { workspaces, invitations, membershipCache } = createWorkspaces(knex, accounts, { cacheMs });
  return { config, db, knex, redis, box, accounts, accountCache, membershipCache, clients, clientChanges, keys, workspaces, invitations };
}
export type Container = ReturnType<typeof createContainer>;
