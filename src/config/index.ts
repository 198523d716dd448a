// One schema for the environment. Every key is documented where it is defined, and
// docs/configuration.md mirrors this file. A missing or wrong setting fails at boot with a sentence
// that says what to set, never at the first request.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Relying parties that cache the JWKS for a day (a common ceiling) see a new key before it signs. */
export const DEFAULT_KEY_ACTIVATION_DELAY_SECONDS = 24 * 3600;
/** A bound against typos: a key that would only sign months from now is a mistake, not a plan. */
export const MAX_KEY_ACTIVATION_DELAY_SECONDS = 30 * 24 * 3600;

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

const schema = z.object({
  /** NODE_ENV: `production` turns on the production checks below. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** PORT: the HTTP port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** GATEHOUSE_ISSUER: the issuer identifier, the public base URL of this server, no trailing slash. */
  GATEHOUSE_ISSUER: optionalString,
  /** GATEHOUSE_DATA_DIR: embedded database, development secret and dev mail outbox. */
  GATEHOUSE_DATA_DIR: z.string().default('./.gatehouse'),
  /** DATABASE_URL: PostgreSQL connection string. Unset: embedded PostgreSQL (PGlite) in the data dir. */
  DATABASE_URL: optionalString,
  /** REDIS_URL: Redis connection string. Unset: short-lived records in the SQL store. */
  REDIS_URL: optionalString,
  /** GATEHOUSE_REDIS_PREFIX: prefix of every Redis key, so deployments can share one Redis. */
  GATEHOUSE_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,32}$/).default('gh:'),
  /** GATEHOUSE_SECRET: master secret (≥ 32 characters): cookie keys and key encryption derive from it. */
  GATEHOUSE_SECRET: optionalString,
  /** GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD: a first admin, created or promoted at boot. */
  GATEHOUSE_ADMIN_EMAIL: optionalString,
  GATEHOUSE_ADMIN_PASSWORD: optionalString,
  /** GATEHOUSE_CLIENTS_FILE: JSON or YAML list of clients applied idempotently at start-up. */
  GATEHOUSE_CLIENTS_FILE: optionalString,
  /** SMTP_URL: e.g. smtp://user:pass@host:587. Unset: mail is written to `<data dir>/outbox/`. */
  SMTP_URL: optionalString,
  /** MAIL_FROM: the From header of every message. */
  MAIL_FROM: z.string().default('Gatehouse <no-reply@localhost>'),
  /** LOG_LEVEL: pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** GATEHOUSE_TRUST_PROXY: trust X-Forwarded-* (set when behind a TLS-terminating load balancer). */
  GATEHOUSE_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  /** GATEHOUSE_CODE_TTL: authorization code lifetime in seconds (RFC 9700: short). */
  GATEHOUSE_CODE_TTL: z.coerce.number().int().min(5).max(600).default(60),
  /** GATEHOUSE_ACCESS_TOKEN_TTL: access token lifetime in seconds. */
  GATEHOUSE_ACCESS_TOKEN_TTL: z.coerce.number().int().min(30).max(86400).default(3600),
  /** GATEHOUSE_ID_TOKEN_TTL: ID token lifetime in seconds. */
  GATEHOUSE_ID_TOKEN_TTL: z.coerce.number().int().min(30).max(86400).default(3600),
  /** GATEHOUSE_REFRESH_TOKEN_TTL: refresh token lifetime in seconds (each rotation starts a new one). */
  GATEHOUSE_REFRESH_TOKEN_TTL: z.coerce.number().int().min(60).default(14 * 24 * 3600),
  /** GATEHOUSE_SESSION_TTL: hosted sign-in session lifetime in seconds. */
  GATEHOUSE_SESSION_TTL: z.coerce.number().int().min(60).default(14 * 24 * 3600),
  /** GATEHOUSE_DEVICE_CODE_TTL: device flow code lifetime in seconds (RFC 8628). */
  GATEHOUSE_DEVICE_CODE_TTL: z.coerce.number().int().min(5).max(3600).default(600),
  /** GATEHOUSE_KEY_REFRESH_SECONDS: how often a node looks for rotated, activated and revoked signing keys. */
  GATEHOUSE_KEY_REFRESH_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /**
   * GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS: how long a rotated-in key is published before it signs.
   * It must exceed GATEHOUSE_KEY_REFRESH_SECONDS (every node publishes the key before any signs with
   * it); the default day also covers relying parties that re-read the JWKS only once a day.
   */
  GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS: z.coerce.number().int().min(1).max(MAX_KEY_ACTIVATION_DELAY_SECONDS).default(DEFAULT_KEY_ACTIVATION_DELAY_SECONDS),
  /** GATEHOUSE_RESOURCES: comma-separated API resource indicators that get JWT access tokens (RFC 9068). */
  GATEHOUSE_RESOURCES: z.string().default(''),
  /** GATEHOUSE_ACCOUNT_CACHE_SECONDS: how long a node may serve an account and its workspace memberships from memory (0: never). */
  GATEHOUSE_ACCOUNT_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** GATEHOUSE_IMPERSONATION_TTL: lifetime of an admin's impersonation token, seconds. */
  GATEHOUSE_IMPERSONATION_TTL: z.coerce.number().int().min(60).max(3600).default(900),
  /** GATEHOUSE_IMPERSONATE_ADMINS: allow impersonating users who are admins themselves. */
  GATEHOUSE_IMPERSONATE_ADMINS: z.enum(['true', 'false']).default('false'),
  /** GATEHOUSE_ADMIN_CONSOLE_MFA: the admin console needs a session that used MFA. */
  GATEHOUSE_ADMIN_CONSOLE_MFA: z.enum(['true', 'false']).default('true'),
  /** GATEHOUSE_AUDIT_RETENTION_DAYS: audit events older than this are pruned (0 keeps them forever). */
  GATEHOUSE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).default(365),
  /** GATEHOUSE_METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`. */
  GATEHOUSE_METRICS_TOKEN: optionalString,
  /** GATEHOUSE_REDIS_SENTINELS: comma-separated host:port of Redis Sentinels; REDIS_URL's host is then the primary's group name. */
  GATEHOUSE_REDIS_SENTINELS: z.string().regex(/^$|^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, 'expected host:port,host:port').default(''),
  /** GATEHOUSE_REDIS_CLUSTER: `true` when REDIS_URL names a node of a Redis Cluster. */
  GATEHOUSE_REDIS_CLUSTER: z.enum(['true', 'false']).default('false'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  issuer: string;
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix: string;
  secret: string;
  admin?: { email: string; password: string };
  clientsFile?: string;
  smtpUrl?: string;
  mailFrom: string;
  logLevel: string;
  trustProxy: boolean;
  ttl: {
    authorizationCode: number;
    accessToken: number;
    idToken: number;
    refreshToken: number;
    session: number;
    deviceCode: number;
  };
  keyRefreshSeconds: number;
  keyActivationDelaySeconds: number;
  resources: string[];
  metricsToken?: string;
  accountCacheSeconds: number;
  administration: { impersonationTtl: number; impersonateAdmins: boolean; consoleMfa: boolean; auditRetentionDays: number };
  redisTopology: { sentinels?: Array<{ host: string; port: number }>; cluster?: boolean };
}

const MIN_SECRET_LENGTH = 32; // 256 bits of base64 text, enough for HKDF input keying material

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

function checkIssuer(issuer: string, env: Config['env']): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`GATEHOUSE_ISSUER must be an absolute URL such as https://id.example.com (got "${issuer}").`);
  }
  if (url.search || url.hash || issuer.endsWith('/')) {
    throw new ConfigError('GATEHOUSE_ISSUER must have no query, fragment or trailing slash.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('GATEHOUSE_ISSUER must be an http(s) URL.');
  }
  if (env === 'production' && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError('In production GATEHOUSE_ISSUER must be an https URL (plain http is only allowed for localhost).');
  }
}

/** Development keeps a generated secret in the data folder so sessions and keys survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

function checkSecret(env: Config['env'], secret: string | undefined, dataDir: string): string {
  if (!secret) {
    if (env === 'production') {
      throw new ConfigError('GATEHOUSE_SECRET is required in production: set it to a random string of at least 32 characters (e.g. `openssl rand -base64 32`).');
    }
    return developmentSecret(dataDir);
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`GATEHOUSE_SECRET must be at least ${MIN_SECRET_LENGTH} characters long.`);
  }
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid setting ${issue.path.join('.')}: ${issue.message}.`);
  }
  const e = parsed.data;
  const issuer = e.GATEHOUSE_ISSUER ?? `http://localhost:${e.PORT}`;
  checkIssuer(issuer, e.NODE_ENV);
  const dataDir = resolve(e.GATEHOUSE_DATA_DIR);
  if (e.GATEHOUSE_REDIS_SENTINELS && e.GATEHOUSE_REDIS_CLUSTER === 'true') {
    throw new ConfigError('Set GATEHOUSE_REDIS_SENTINELS or GATEHOUSE_REDIS_CLUSTER=true, not both.');
  }
  if (e.GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS <= e.GATEHOUSE_KEY_REFRESH_SECONDS) {
    throw new ConfigError(`GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS (${e.GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS}) must exceed GATEHOUSE_KEY_REFRESH_SECONDS (${e.GATEHOUSE_KEY_REFRESH_SECONDS}): otherwise a node could sign with a key that another node does not publish yet.`);
  }
  if ((e.GATEHOUSE_ADMIN_EMAIL == null) !== (e.GATEHOUSE_ADMIN_PASSWORD == null)) {
    throw new ConfigError('Set both GATEHOUSE_ADMIN_EMAIL and GATEHOUSE_ADMIN_PASSWORD, or neither.');
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    issuer,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    // On a Cluster every key shares one hash slot ({prefix}), because the adapter's MULTI spans a
    // record, its grant list and its indexes; see docs/configuration.md.
    redisPrefix: e.GATEHOUSE_REDIS_CLUSTER === 'true' ? `{${e.GATEHOUSE_REDIS_PREFIX.replace(/:$/, '')}}:` : e.GATEHOUSE_REDIS_PREFIX,
    secret: checkSecret(e.NODE_ENV, e.GATEHOUSE_SECRET, dataDir),
    admin: e.GATEHOUSE_ADMIN_EMAIL ? { email: e.GATEHOUSE_ADMIN_EMAIL, password: e.GATEHOUSE_ADMIN_PASSWORD! } : undefined,
    clientsFile: e.GATEHOUSE_CLIENTS_FILE,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.GATEHOUSE_TRUST_PROXY === 'true',
    ttl: {
      authorizationCode: e.GATEHOUSE_CODE_TTL,
      accessToken: e.GATEHOUSE_ACCESS_TOKEN_TTL,
      idToken: e.GATEHOUSE_ID_TOKEN_TTL,
      refreshToken: e.GATEHOUSE_REFRESH_TOKEN_TTL,
      session: e.GATEHOUSE_SESSION_TTL,
      deviceCode: e.GATEHOUSE_DEVICE_CODE_TTL,
    },
    keyRefreshSeconds: e.GATEHOUSE_KEY_REFRESH_SECONDS,
    keyActivationDelaySeconds: e.GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS,
    resources: e.GATEHOUSE_RESOURCES.split(',').map((s) => s.trim()).filter(Boolean),
    metricsToken: e.GATEHOUSE_METRICS_TOKEN,
    accountCacheSeconds: e.GATEHOUSE_ACCOUNT_CACHE_SECONDS,
    administration: {
      impersonationTtl: e.GATEHOUSE_IMPERSONATION_TTL, impersonateAdmins: e.GATEHOUSE_IMPERSONATE_ADMINS === 'true',
      consoleMfa: e.GATEHOUSE_ADMIN_CONSOLE_MFA === 'true', auditRetentionDays: e.GATEHOUSE_AUDIT_RETENTION_DAYS,
    },
    redisTopology: {
      sentinels: e.GATEHOUSE_REDIS_SENTINELS ? e.GATEHOUSE_REDIS_SENTINELS.split(',').map((hp) => {
        const i = hp.lastIndexOf(':');
        return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
      }) : undefined,
      cluster: e.GATEHOUSE_REDIS_CLUSTER === 'true',
    },
  };
}
