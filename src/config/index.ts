// One schema for the environment. Every key is documented where it is defined, and
// docs/configuration.md mirrors this file. A missing or wrong setting fails at boot with a sentence
// that says what to set, never at the first request.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { brandColorProblem, type Brand } from '../render/brand.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Relying parties that cache the JWKS for a day (a common ceiling) see a new key before it signs. */
export const DEFAULT_KEY_ACTIVATION_DELAY_SECONDS = 24 * 3600;
/** A bound against typos: a key that would only sign months from now is a mistake, not a plan. */
export const MAX_KEY_ACTIVATION_DELAY_SECONDS = 30 * 24 * 3600;

/** Headers are a few hundred bytes: ten seconds is generous even on a poor mobile link. */
export const DEFAULT_HEADERS_TIMEOUT_SECONDS = 10;
/** Our largest body is 64 kB (src/http/body.ts); thirty seconds covers it at a few kB/s. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const splitList = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const isCidr = (v: string) => { try { ipaddr.parseCIDR(v); return true; } catch { return false; } };

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
  /**
   * DATABASE_DIRECT_URL: a direct (session) connection to the same database, for what a pooler in
   * transaction mode (PgBouncer) cannot carry: LISTEN for change notices and the migrations'
   * session advisory lock. Unset: DATABASE_URL is used for these too.
   */
  DATABASE_DIRECT_URL: optionalString,
  /**
   * GATEHOUSE_DB_POOL_MAX: SQL connections one node may hold in its pool. Each node also holds 2
   * listening connections (on DATABASE_DIRECT_URL when set); see docs/configuration.md for sizing.
   */
  GATEHOUSE_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
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
  /**
   * GATEHOUSE_PROVIDERS_FILE: JSON or YAML list of upstream identity providers applied at start-up
   * (created or updated by name; secrets by environment variable: client_secret_env). docs/providers.md
   */
  GATEHOUSE_PROVIDERS_FILE: optionalString,
  /** SMTP_URL: e.g. smtp://user:pass@host:587. Unset: mail is written to `<data dir>/outbox/`. */
  SMTP_URL: optionalString,
  /** MAIL_FROM: the From header of every message. */
  MAIL_FROM: z.string().default('Gatehouse <no-reply@localhost>'),
  /** LOG_LEVEL: pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * GATEHOUSE_TRUST_PROXY: how many proxies stand in front of Gatehouse (`false` = 0, `true` = 1, or a
   * number). Each is trusted to append the address it saw to X-Forwarded-For and to set
   * X-Forwarded-Proto/-Host; the client address is the entry that many places from the right, so
   * whatever a client writes to the left is ignored. With `false` the headers are ignored and the
   * client is the socket's peer. An https issuer in production needs at least 1 (checkTlsProxy:
   * Gatehouse never terminates TLS, so only the proxy can say a request came over https). See
   * "Behind a proxy" in docs/configuration.md.
   */
  GATEHOUSE_TRUST_PROXY: z.string().trim().toLowerCase()
    .regex(/^(true|false|\d{1,2})$/, 'expected false, true or the number of proxies in front (0-99)').default('false')
    .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v))),
  /**
   * GATEHOUSE_HEADERS_TIMEOUT_SECONDS: a client has this long to send a request's headers, and
   * GATEHOUSE_REQUEST_TIMEOUT_SECONDS to send the whole request (headers and body); then the
   * connection is closed with 408. A slow client must not hold a socket for minutes.
   */
  GATEHOUSE_HEADERS_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(DEFAULT_HEADERS_TIMEOUT_SECONDS),
  GATEHOUSE_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(DEFAULT_REQUEST_TIMEOUT_SECONDS),
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
  /** GATEHOUSE_RESOURCES: comma-separated API resource indicators that get JWT access tokens (RFC 9068); a shortcut beside the stored resources, and wins over them (docs/resources.md). */
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
  /**
   * GATEHOUSE_AUTHORIZE_POST: `true` accepts form POSTs at the authorization and end-session
   * endpoints too (OIDC Core 3.1.2.1 says the authorization endpoint MUST). The session cookie is
   * then SameSite=None (a cross-site form POST must carry it), so it needs an https issuer, or a
   * loopback one for local development and conformance runs; refused at boot otherwise.
   */
  GATEHOUSE_AUTHORIZE_POST: z.enum(['true', 'false']).default('false'),
  /**
   * GATEHOUSE_WEBHOOK_ALLOW_CIDRS: comma-separated CIDRs a webhook may reach although they are not
   * public (e.g. `10.20.0.0/16` for a receiver on the internal network). In production every other
   * loopback, private, link-local, CGNAT, unique-local or metadata address is refused.
   */
  GATEHOUSE_WEBHOOK_ALLOW_CIDRS: z.string().default('').refine((v) => splitList(v).every(isCidr), 'expected comma-separated CIDRs such as 10.0.0.0/8 or fd12::/16'),
  /**
   * GATEHOUSE_WEBHOOK_RETRY_SCHEDULE: seconds to wait before each retry of a failed webhook (each
   * ±20 % jitter); when used up the message has failed. Default about a day: 5 s … 10 h.
   */
  GATEHOUSE_WEBHOOK_RETRY_SCHEDULE: z.string().default('5,300,1800,7200,18000,36000,36000')
    .refine((v) => splitList(v).length > 0 && splitList(v).every((n) => /^\d+(\.\d+)?$/.test(n)), 'expected comma-separated seconds such as 5,300,1800'),
  /** GATEHOUSE_WEBHOOK_DISABLE_AFTER_SECONDS: an endpoint whose deliveries all failed for this long is disabled. */
  GATEHOUSE_WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce.number().min(1).default(86400),
  /** GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS: how long one webhook request may take, connection to last byte. */
  GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(10),
  /** GATEHOUSE_WEBHOOK_POLL_MS: how often an idle node looks for due webhook messages. */
  GATEHOUSE_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** GATEHOUSE_WEBHOOK_RETENTION_DAYS: delivered and failed messages and the delivery log are kept this long. */
  GATEHOUSE_WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  /** The product name on every page, mail, the console and in authenticator apps. */
  GATEHOUSE_BRAND_NAME: z.string().trim().min(1).max(60).default('Gatehouse'),
  /** Logo in the page header: an https URL or a path on this server. */
  GATEHOUSE_BRAND_LOGO_URL: optionalString.refine((v) => v === undefined || isImageUrl(v), 'expected an https:// URL or a path starting with /'),
  /** Favicon: an https URL or a path on this server (default: the shipped /favicon.ico). */
  GATEHOUSE_BRAND_FAVICON_URL: optionalString.refine((v) => v === undefined || isImageUrl(v), 'expected an https:// URL or a path starting with /'),
  /** Accent colour (#rrggbb) for links and buttons; must reach 4.5:1 against white. */
  GATEHOUSE_BRAND_COLOR: optionalString,
  /** Accent colour for dark mode; must reach 4.5:1 against the dark page. */
  GATEHOUSE_BRAND_COLOR_DARK: optionalString,
  /** Where people get help: an https URL or mailto: address, linked on every page and mail. */
  GATEHOUSE_SUPPORT_URL: optionalString.refine((v) => v === undefined || /^(https:\/\/|mailto:)/.test(v), 'expected an https:// URL or a mailto: address'),
  /**
   * GATEHOUSE_SIGNUP: who may create an account on the hosted sign-in: `open` (anyone, the default),
   * `invitation` (only someone arriving with a valid workspace invitation) or `closed` (nobody:
   * accounts come from the admin console, the CLI or an upstream provider). An app's own
   * `signup_policy` overrides it (src/interactions/signup.ts).
   */
  GATEHOUSE_SIGNUP: z.enum(['open', 'invitation', 'closed']).default('open'),
  /**
   * GATEHOUSE_HOME: what `/` shows once an administrator exists: `page` (a small landing page),
   * `off` (a 404 page that links to /account) or an https:// URL to redirect to. (Before the first
   * administrator exists, `/` always explains the first run: src/setup/home.pages.ts.)
   */
  GATEHOUSE_HOME: z.string().trim().default('page').refine((v) => v === 'page' || v === 'off' || /^https:\/\/[^\s]+$/.test(v), 'expected page, off or an https:// URL to redirect to'),
});

function isImageUrl(v: string): boolean {
  return (v.startsWith('/') && !v.startsWith('//')) || /^https:\/\/[^\s]+$/.test(v);
}

function checkBrand(e: { GATEHOUSE_BRAND_NAME: string; GATEHOUSE_BRAND_LOGO_URL?: string; GATEHOUSE_BRAND_FAVICON_URL?: string; GATEHOUSE_BRAND_COLOR?: string; GATEHOUSE_BRAND_COLOR_DARK?: string; GATEHOUSE_SUPPORT_URL?: string }): Brand {
  for (const [name, value, dark] of [['GATEHOUSE_BRAND_COLOR', e.GATEHOUSE_BRAND_COLOR, false], ['GATEHOUSE_BRAND_COLOR_DARK', e.GATEHOUSE_BRAND_COLOR_DARK, true]] as const) {
    const problem = value === undefined ? undefined : brandColorProblem(value, dark);
    if (problem) throw new ConfigError(`${name}: ${problem}`);
  }
  return {
    name: e.GATEHOUSE_BRAND_NAME, logoUrl: e.GATEHOUSE_BRAND_LOGO_URL, faviconUrl: e.GATEHOUSE_BRAND_FAVICON_URL,
    color: e.GATEHOUSE_BRAND_COLOR, colorDark: e.GATEHOUSE_BRAND_COLOR_DARK, supportUrl: e.GATEHOUSE_SUPPORT_URL,
  };
}

/** Who may create an account on the hosted sign-in page. */
export type SignupPolicy = 'open' | 'invitation' | 'closed';

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  issuer: string;
  dataDir: string;
  databaseUrl?: string;
  /** LISTEN and migrations: DATABASE_DIRECT_URL, else DATABASE_URL */
  databaseDirectUrl?: string;
  dbPoolMax: number;
  redisUrl?: string;
  redisPrefix: string;
  secret: string;
  admin?: { email: string; password: string };
  clientsFile?: string;
  /** GATEHOUSE_PROVIDERS_FILE (src/upstream/provider.service.ts: applyFile) */
  providersFile?: string;
  smtpUrl?: string;
  mailFrom: string;
  logLevel: string;
  trustProxy: boolean;
  /** GATEHOUSE_AUTHORIZE_POST: POST at /auth and /session/end (SameSite=None session cookies). */
  authorizePost: boolean;
  /** Proxies in front (GATEHOUSE_TRUST_PROXY): Koa's maxIpsCount, for our app and the provider alike. */
  proxyHops: number;
  /** Seconds (GATEHOUSE_HEADERS_TIMEOUT_SECONDS, GATEHOUSE_REQUEST_TIMEOUT_SECONDS). */
  timeouts: { headers: number; request: number };
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
  /** GATEHOUSE_WEBHOOK_*: delivery of webhooks (src/webhooks/) */
  webhooks: { allowCidrs: string[]; retrySchedule: number[]; disableAfterSeconds: number; timeoutSeconds: number; pollMs: number; retentionDays: number };
  /** GATEHOUSE_BRAND_*, GATEHOUSE_SUPPORT_URL (src/render/brand.ts) */
  brand: Brand;
  /** GATEHOUSE_SIGNUP: who may create an account on the hosted sign-in (an app's signup_policy overrides it) */
  signup: SignupPolicy;
  /** GATEHOUSE_HOME: `/` once an administrator exists (src/setup/home.pages.ts) */
  home: { kind: 'page' | 'off' } | { kind: 'redirect'; url: string };
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

/**
 * Gatehouse never terminates TLS (src/server.ts speaks plain HTTP): an https issuer means a proxy in
 * front that does, and only a trusted proxy's X-Forwarded-Proto tells Gatehouse a request came over
 * https. In production, without that trust every hosted page would be refused (src/http/require-https.ts).
 */
function checkTlsProxy(issuer: string, env: Config['env'], proxyHops: number): void {
  if (env !== 'production' || proxyHops > 0 || new URL(issuer).protocol !== 'https:') return;
  throw new ConfigError(`GATEHOUSE_ISSUER is https (${issuer}), but Gatehouse serves plain HTTP and never terminates TLS itself: it must stand behind the TLS-terminating proxy, and trust it to say a request came over https. Set GATEHOUSE_TRUST_PROXY to the number of proxies in front of Gatehouse (1 for the shipped nginx), see "Behind a proxy" in docs/configuration.md.`);
}

/**
 * POST at the authorization endpoint needs SameSite=None cookies, which browsers take only with
 * Secure: an https issuer, or a loopback one (browsers treat http://localhost as secure).
 */
function checkAuthorizePost(enabled: boolean, issuer: string): boolean {
  if (!enabled) return false;
  const url = new URL(issuer);
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(`GATEHOUSE_AUTHORIZE_POST=true needs an https GATEHOUSE_ISSUER (or a loopback one such as http://localhost:3000 for development): its session cookie is SameSite=None, which browsers accept only as Secure (got "${issuer}").`);
  }
  return true;
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
  checkTlsProxy(issuer, e.NODE_ENV, e.GATEHOUSE_TRUST_PROXY);
  const dataDir = resolve(e.GATEHOUSE_DATA_DIR);
  if (e.GATEHOUSE_REDIS_SENTINELS && e.GATEHOUSE_REDIS_CLUSTER === 'true') {
    throw new ConfigError('Set GATEHOUSE_REDIS_SENTINELS or GATEHOUSE_REDIS_CLUSTER=true, not both.');
  }
  if (e.GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS <= e.GATEHOUSE_KEY_REFRESH_SECONDS) {
    throw new ConfigError(`GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS (${e.GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS}) must exceed GATEHOUSE_KEY_REFRESH_SECONDS (${e.GATEHOUSE_KEY_REFRESH_SECONDS}): otherwise a node could sign with a key that another node does not publish yet.`);
  }
  if (e.DATABASE_DIRECT_URL && !e.DATABASE_URL) {
    throw new ConfigError('DATABASE_DIRECT_URL is set without DATABASE_URL: set DATABASE_URL too (the pooled connection), or unset both for the embedded database.');
  }
  if (e.GATEHOUSE_HEADERS_TIMEOUT_SECONDS > e.GATEHOUSE_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError('GATEHOUSE_HEADERS_TIMEOUT_SECONDS must not exceed GATEHOUSE_REQUEST_TIMEOUT_SECONDS (the headers are part of the request).');
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
    databaseDirectUrl: e.DATABASE_URL ? (e.DATABASE_DIRECT_URL ?? e.DATABASE_URL) : undefined,
    dbPoolMax: e.GATEHOUSE_DB_POOL_MAX,
    redisUrl: e.REDIS_URL,
    // On a Cluster every key shares one hash slot ({prefix}), because the adapter's MULTI spans a
    // record, its grant list and its indexes; see docs/configuration.md.
    redisPrefix: e.GATEHOUSE_REDIS_CLUSTER === 'true' ? `{${e.GATEHOUSE_REDIS_PREFIX.replace(/:$/, '')}}:` : e.GATEHOUSE_REDIS_PREFIX,
    secret: checkSecret(e.NODE_ENV, e.GATEHOUSE_SECRET, dataDir),
    admin: e.GATEHOUSE_ADMIN_EMAIL ? { email: e.GATEHOUSE_ADMIN_EMAIL, password: e.GATEHOUSE_ADMIN_PASSWORD! } : undefined,
    clientsFile: e.GATEHOUSE_CLIENTS_FILE,
    providersFile: e.GATEHOUSE_PROVIDERS_FILE,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.GATEHOUSE_TRUST_PROXY > 0,
    authorizePost: checkAuthorizePost(e.GATEHOUSE_AUTHORIZE_POST === 'true', issuer),
    proxyHops: e.GATEHOUSE_TRUST_PROXY,
    timeouts: { headers: e.GATEHOUSE_HEADERS_TIMEOUT_SECONDS, request: e.GATEHOUSE_REQUEST_TIMEOUT_SECONDS },
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
    webhooks: {
      allowCidrs: splitList(e.GATEHOUSE_WEBHOOK_ALLOW_CIDRS), retrySchedule: splitList(e.GATEHOUSE_WEBHOOK_RETRY_SCHEDULE).map(Number),
      disableAfterSeconds: e.GATEHOUSE_WEBHOOK_DISABLE_AFTER_SECONDS, timeoutSeconds: e.GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS,
      pollMs: e.GATEHOUSE_WEBHOOK_POLL_MS, retentionDays: e.GATEHOUSE_WEBHOOK_RETENTION_DAYS,
    },
    brand: checkBrand(e),
    signup: e.GATEHOUSE_SIGNUP,
    home: e.GATEHOUSE_HOME === 'page' || e.GATEHOUSE_HOME === 'off' ? { kind: e.GATEHOUSE_HOME } : { kind: 'redirect', url: e.GATEHOUSE_HOME },
    redisTopology: {
      sentinels: e.GATEHOUSE_REDIS_SENTINELS ? e.GATEHOUSE_REDIS_SENTINELS.split(',').map((hp) => {
        const i = hp.lastIndexOf(':');
        return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
      }) : undefined,
      cluster: e.GATEHOUSE_REDIS_CLUSTER === 'true',
    },
  };
}
