// npm run bench: Gatehouse (Postgres + Redis) beside a bare oidc-provider on the same Redis, the
// same scenarios against both, the load generator in its own process. Servers are pinned to core 0
// and the load generator to core 1 (taskset), so "per second" is per server core.
// Prints a table and writes bench/results.json (one entry per scenario) and bench/results-meta.json.
//   DATABASE_URL=postgres://… REDIS_URL=redis://… npm run bench      (defaults: local servers)
//   BENCH_SECONDS=5 BENCH_CONNECTIONS=10 BENCH_ONLY=refresh,userinfo BENCH_PROFILE=/tmp/prof BENCH_KEEP=1   (optional)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { basicAuth, signInFlow, type SignInTarget, type Tokens } from './flows.ts';
import type { LoadResult, LoadSpec } from './load.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * By default the bench starts its own redis-server pinned to the load generator's core: the shared
 * one may be busy with other work (test suites), and unpinned it would steal the server's core.
 * BENCH_REDIS=shared uses REDIS_URL instead.
 */
const OWN_REDIS = process.env.BENCH_REDIS !== 'shared' && spawnSync('redis-server', ['--version']).status === 0;
/** Bounded: the whole bench stays within a few minutes on a 2-core machine. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 1;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** Concurrent browser flows in the sign-in scenario (argon2 runs on libuv's pool, pinned to one core). */
const SIGNIN_CONCURRENCY = 4;
/** The issue's latency target is p99 at 70% of peak. */
const LATENCY_LOAD = 0.7;
/** Refresh tokens per connection in the rotation pool: a token in flight at a run's end is lost. */
const REFRESH_POOL_PER_CONNECTION = 3;
/**
 * Gatehouse and the bare library are measured in alternating rounds (gh, bare, gh, bare): a virtual
 * machine's speed drifts by tens of percent over a minute, and alternating spreads the drift over both.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);
/** Webhook endpoints registered on the Gatehouse under test, subscribed to every event. */
const WEBHOOK_ENDPOINTS = Number(process.env.BENCH_WEBHOOK_ENDPOINTS ?? 10);

const REDIRECT = 'http://127.0.0.1:7999/cb';
const CONF = { client_id: 'bench-conf', client_secret: randomBytes(32).toString('base64url') };
/** The same client with ES256 ID tokens: how much of a refresh is the RS256 signature. */
const CONF_ES = { client_id: 'bench-conf-es256', client_secret: CONF.client_secret, id_token_signed_response_alg: 'ES256' };
const DEVICE = { client_id: 'bench-device' };
const USER = { email: 'loadtest@example.test', password: 'quiet harbour lantern 42' };
const SCOPE = 'openid profile email offline_access';

const TASKSET = spawnSync('taskset', ['-V']).status === 0;
const CORES = availableParallelism();
const pin = (core: number, cmd: string[]) => (TASKSET && CORES > 1 ? ['taskset', '-c', String(core), ...cmd] : cmd);

// ---------- processes ----------

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => res(port)); });
    s.on('error', rej);
  });
}

/**
 * The servers log to a pipe, as under a container runtime; this process copies it to a file. (A
 * server writing straight to a file on a busy disk blocks in write(2), which a pipe does not.)
 */
function start(cmd: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(file, { end: false });
  child.stderr!.pipe(file, { end: false });
  return child;
}

async function waitFor(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after 30 s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((res, rej) => {
    const [cmd, ...args] = pin(1, [process.execPath, join(ROOT, 'bench/load.ts'), JSON.stringify(spec)]);
    const child = spawn(cmd!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    child.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`load generator exited with ${code}`));
      res(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult);
    });
  });
}

// ---------- stores ----------

async function freshDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `gh_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(), name,
    async drop() {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Bytes of every key under a prefix (MEMORY USAGE, exact). */
async function keyBytes(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) bytes.set(k, Number(await redis.memory('USAGE', k, 'SAMPLES', '0')));
  } while (cursor !== '0');
  return bytes;
}

/**
 * Redis memory one more sign-in adds, by kind of key (new keys, and growth of existing ones such as
 * an account's index): the session with its grant and indexes, and the tokens.
 */
async function redisBytesPerSignIn(redis: Redis, prefix: string, target: SignInTarget): Promise<Record<string, number>> {
  const before = await keyBytes(redis, prefix);
  const tokens = await signInFlow(target);
  const after = await keyBytes(redis, prefix);
  const bytes: Record<string, number> = {};
  for (const [k, size] of after) {
    const added = size - (before.get(k) ?? 0);
    if (!added) continue;
    const rest = k.slice(prefix.length);
    const group = rest.startsWith('oidc:') ? rest.split(':')[1]! : rest.split(':')[0]!;
    bytes[group] = (bytes[group] ?? 0) + added;
  }
  // one refresh: how much the grant's revocation index grows per rotation (its expired members are trimmed)
  const grantList = [...after.keys()].find((k) => !before.has(k) && k.startsWith(`${prefix}oidc:byGrant:`));
  const listBefore = grantList ? Number(await redis.memory('USAGE', grantList, 'SAMPLES', '0')) : 0;
  await refresh(target.issuer, tokens.refresh_token);
  const listAfter = grantList ? Number(await redis.memory('USAGE', grantList, 'SAMPLES', '0')) : 0;
  return { ...bytes, grant_list_growth_per_refresh: listAfter - listBefore };
}

async function refresh(issuer: string, refreshToken: string): Promise<Tokens> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(CONF.client_id, CONF.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${await res.text()}`);
  return await res.json() as Tokens;
}

async function deviceCode(issuer: string): Promise<string> {
  const res = await fetch(`${issuer}/device/auth`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: DEVICE.client_id, scope: 'openid' }),
  });
  if (res.status !== 200) throw new Error(`device authorization answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { device_code: string }).device_code;
}

/** CPU seconds a process has used (user + system), from /proc; NaN where there is no /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch { return NaN; }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

async function dbQueries(issuer: string): Promise<number> {
  const text = await (await fetch(`${issuer}/metrics`)).text();
  const m = /^gatehouse_db_queries_total (\d+(?:\.\d+)?)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

// ---------- scenarios ----------

interface Target { name: 'gatehouse' | 'bare'; issuer: string; pid?: number; signIn: SignInTarget; tokens: Tokens[]; esTokens: Tokens[]; deviceCode: string }

/**
 * Runs a load and reports the server's CPU meanwhile: how busy its core was (1.0 = saturated), and
 * requests per CPU-second, the capacity of one core even when something else (the load generator,
 * Redis, a neighbour) kept the server from being saturated.
 */
type Measured = LoadResult & { cpu: number; perCpuSecond: number; cpuUsed: number };

async function measured(t: Target, spec: LoadSpec): Promise<Measured> {
  const c0 = cpuSeconds(t.pid);
  const w0 = performance.now();
  const result = await load(spec);
  const used = cpuSeconds(t.pid) - c0;
  return { ...result, cpu: used / ((performance.now() - w0) / 1000), perCpuSecond: (result.responses ?? result.ok) / used, cpuUsed: used };
}

/** Rounds of one server, as one result: mean rates, the worst p99, CPU capacity over all of them. */
function combined(rounds: Measured[]): Measured {
  const mean = (f: (m: Measured) => number) => rounds.reduce((a, m) => a + f(m), 0) / rounds.length;
  const sum = (f: (m: Measured) => number) => rounds.reduce((a, m) => a + f(m), 0);
  const statuses: Record<string, number> = {};
  for (const m of rounds) for (const [k, v] of Object.entries(m.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const responses = sum((m) => m.responses ?? m.ok);
  const cpuUsed = sum((m) => m.cpuUsed);
  return {
    rps: mean((m) => m.rps), p50_ms: round(mean((m) => m.p50_ms), 2), p99_ms: Math.max(...rounds.map((m) => m.p99_ms)),
    ok: sum((m) => m.ok), failed: sum((m) => m.failed), statuses, responses,
    cpu: mean((m) => m.cpu), cpuUsed, perCpuSecond: responses / cpuUsed,
  };
}

interface Scenario {
  name: string;
  /** null: the bare library has no equivalent */
  bare: boolean;
  /** measure p99 again at 70% of Gatehouse's peak */
  latencyTarget?: boolean;
  spec(t: Target): LoadSpec;
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const confBasic = () => basicAuth(CONF.client_id, CONF.client_secret);
const http = (s: Omit<Extract<LoadSpec, { kind: 'http' }>, 'kind' | 'connections' | 'seconds' | 'warmupSeconds' | 'expect'> & { expect?: number[] }): LoadSpec => ({
  kind: 'http', connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, expect: [200], ...s,
});

const SCENARIOS: Scenario[] = [
  { name: 'discovery', bare: true, spec: (t) => http({ url: `${t.issuer}/.well-known/openid-configuration`, method: 'GET' }) },
  { name: 'jwks', bare: true, spec: (t) => http({ url: `${t.issuer}/jwks`, method: 'GET' }) },
  {
    name: 'client_credentials', bare: true, latencyTarget: true,
    spec: (t) => http({ url: `${t.issuer}/token`, method: 'POST', headers: { ...form, authorization: confBasic() }, body: 'grant_type=client_credentials' }),
  },
  {
    name: 'refresh', bare: true, latencyTarget: true,
    spec: (t) => http({
      url: `${t.issuer}/token`, method: 'POST',
      refreshPool: { tokens: t.tokens.splice(0, CONNECTIONS * REFRESH_POOL_PER_CONNECTION).map((x) => x.refresh_token), basic: confBasic() },
    }),
  },
  {
    // not a target of its own: the refresh above with ES256 ID tokens instead of RS256
    name: 'refresh_es256', bare: true,
    spec: (t) => http({
      url: `${t.issuer}/token`, method: 'POST',
      refreshPool: { tokens: t.esTokens.splice(0, CONNECTIONS * REFRESH_POOL_PER_CONNECTION).map((x) => x.refresh_token), basic: basicAuth(CONF_ES.client_id, CONF_ES.client_secret) },
    }),
  },
  {
    name: 'introspection', bare: true, latencyTarget: true,
    spec: (t) => http({ url: `${t.issuer}/token/introspection`, method: 'POST', headers: { ...form, authorization: confBasic() }, body: `token=${t.tokens.at(-1)!.access_token}` }),
  },
  {
    name: 'userinfo', bare: true,
    spec: (t) => http({ url: `${t.issuer}/me`, method: 'GET', headers: { authorization: `Bearer ${t.tokens.at(-1)!.access_token}` } }),
  },
  {
    name: 'password_sign_in', bare: false,
    spec: (t) => ({ kind: 'signin', target: t.signIn, concurrency: SIGNIN_CONCURRENCY, seconds: SECONDS + 3, warmupSeconds: WARMUP_SECONDS }),
  },
  {
    // polling before the user has approved: authorization_pending or slow_down, both a 400
    name: 'device_polling', bare: true,
    spec: (t) => http({
      url: `${t.issuer}/token`, method: 'POST', headers: form, expect: [400],
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: t.deviceCode, client_id: DEVICE.client_id }).toString(),
    }),
  },
];

// ---------- report ----------

interface Entry {
  scenario: string;
  gatehouse_rps: number;
  bare_rps: number | null;
  ratio: number | null;
  p50_ms: number;
  p99_ms: number;
  cores: number;
  p99_ms_at_70pct: number | null;
  bare_p50_ms: number | null;
  bare_p99_ms: number | null;
  bare_p99_ms_at_70pct: number | null;
  pg_queries_per_request: number;
  /** how busy the server's core was during the peak run (warm-up included): near 1.0 means the server was the bottleneck */
  gatehouse_cpu: number;
  bare_cpu: number | null;
  /** requests per CPU-second of the server process (warm-up included): per-core capacity, robust to a busy machine */
  gatehouse_per_cpu_s: number;
  bare_per_cpu_s: number | null;
  cpu_ratio: number | null;
  failed: number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function table(entries: Entry[]): string {
  const head = ['scenario', 'gatehouse/s', 'bare/s', 'ratio', 'p50 ms', 'p99 ms', 'p99@70%', 'bare p99', 'bare p99@70%', 'pg q/req', 'busy gh/bare', 'gh/cpu-s', 'bare/cpu-s', 'cpu ratio', 'failed'];
  const rows = entries.map((e) => [
    e.scenario, String(Math.round(e.gatehouse_rps)), e.bare_rps === null ? '—' : String(Math.round(e.bare_rps)),
    e.ratio === null ? '—' : e.ratio.toFixed(2), String(e.p50_ms), String(e.p99_ms),
    e.p99_ms_at_70pct === null ? '—' : String(e.p99_ms_at_70pct), e.bare_p99_ms === null ? '—' : String(e.bare_p99_ms),
    e.bare_p99_ms_at_70pct === null ? '—' : String(e.bare_p99_ms_at_70pct),
    e.pg_queries_per_request.toFixed(2), `${e.gatehouse_cpu.toFixed(2)}/${e.bare_cpu === null ? '—' : e.bare_cpu.toFixed(2)}`,
    String(e.gatehouse_per_cpu_s), e.bare_per_cpu_s === null ? '—' : String(e.bare_per_cpu_s), e.cpu_ratio === null ? '—' : e.cpu_ratio.toFixed(2), String(e.failed),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------- main ----------

async function main(): Promise<void> {
  const started = Date.now();
  // this process only orchestrates and copies logs: keep it off the servers' core too
  if (TASKSET && CORES > 1) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const db = await freshDatabase();
  const children: ChildProcess[] = [];
  let redisUrl = SHARED_REDIS_URL;
  if (OWN_REDIS) {
    const port = await freePort();
    const server = start(pin(1, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']), {}, join(scratch, 'redis.log'));
    children.push(server);
    redisUrl = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {}); // not listening yet: connect() below says so
      const up = await probe.connect().then(() => true, () => false);
      probe.disconnect();
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const redis = new Redis(redisUrl);
  const ghPrefix = `bench${randomBytes(3).toString('hex')}:`;
  const barePrefix = `barebench${randomBytes(3).toString('hex')}:`;
  try {
    const clientsFile = join(scratch, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([
      { ...CONF, name: 'Bench confidential', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: SCOPE },
      { ...CONF_ES, name: 'Bench confidential (ES256)', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], scope: SCOPE },
      { ...DEVICE, name: 'Bench device', public: true, grant_types: ['device_code', 'refresh_token'], scope: SCOPE },
    ]));
    const ghPort = await freePort();
    const barePort = await freePort();
    const ghIssuer = `http://127.0.0.1:${ghPort}`;
    const bareIssuer = `http://127.0.0.1:${barePort}`;
    const ghLog = join(scratch, 'gatehouse.log');
    const bareLog = join(scratch, 'bare.log');

    // BENCH_PROFILE=<dir>: V8 CPU profiles of both servers, written when they stop
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE)}`] : [];
    const ghEnv = {
      NODE_ENV: 'production', PORT: String(ghPort), GATEHOUSE_ISSUER: ghIssuer, GATEHOUSE_DATA_DIR: join(scratch, 'data'),
      DATABASE_URL: db.url, REDIS_URL: redisUrl, GATEHOUSE_REDIS_PREFIX: ghPrefix, GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
      GATEHOUSE_CLIENTS_FILE: clientsFile, GATEHOUSE_ADMIN_EMAIL: USER.email, GATEHOUSE_ADMIN_PASSWORD: USER.password, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      // the webhook endpoints registered below are local (a production node refuses them otherwise)
      GATEHOUSE_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
    };
    const gatehouse = start(pin(0, [process.execPath, ...profile, 'src/main.ts']), ghEnv, ghLog);
    children.push(gatehouse);
    const bare = start(pin(0, [process.execPath, ...profile, 'bench/bare-server.ts']), {
      PORT: String(barePort), REDIS_URL: redisUrl, BENCH_PREFIX: barePrefix,
      BENCH_CLIENTS: JSON.stringify([
        { ...CONF, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: SCOPE },
        { ...CONF_ES, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: SCOPE },
        { ...DEVICE, token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], response_types: [], redirect_uris: [], scope: SCOPE },
      ]),
    }, bareLog);
    children.push(bare);
    await waitFor(`${ghIssuer}/readyz`, gatehouse, ghLog);
    await waitFor(`${bareIssuer}/.well-known/openid-configuration`, bare, bareLog);
    // Every figure is taken with WEBHOOK_ENDPOINTS webhook endpoints registered for every event
    // (issue 16: sign-in and token endpoints unchanged with endpoints registered): the outbox routes
    // each audited event against them and every node's delivery loop polls while any is enabled.
    for (let i = 0; i < WEBHOOK_ENDPOINTS; i++) {
      const added = spawnSync(process.execPath, ['bin/gatehouse.js', 'webhooks', 'add', '--url', `https://127.0.0.1:9/bench-${i}`, '--events', '*', '--json'], { env: { ...process.env, ...ghEnv, PORT: undefined } });
      if (added.status !== 0) throw new Error(`could not register a webhook endpoint: ${added.stderr.toString().slice(0, 300)}`);
    }

    const signInTarget = (issuer: string, pages: 'gatehouse' | 'bare'): SignInTarget => ({
      issuer, clientId: CONF.client_id, clientSecret: CONF.client_secret, redirectUri: REDIRECT, pages, ...USER,
    });
    // first, while the user has no other session: the figure a user with one session costs (a
    // user's index of sessions grows with each one; the pools below give this user ~180)
    const redisBytes = await redisBytesPerSignIn(redis, ghPrefix, signInTarget(ghIssuer, 'gatehouse'));
    const targets: Target[] = [];
    for (const [name, issuer] of [['gatehouse', ghIssuer], ['bare', bareIssuer]] as const) {
      const signIn = signInTarget(issuer, name);
      const tokens: Tokens[] = [];
      // a pool per refresh run (each round, and the run at 70% of peak), plus one grant whose access
      // token is introspected and used at userinfo
      for (let i = 0; i < (ROUNDS + 1) * CONNECTIONS * REFRESH_POOL_PER_CONNECTION + 1; i++) tokens.push(await signInFlow(signIn));
      const esTokens: Tokens[] = [];
      if (!ONLY || ONLY.includes('refresh_es256')) {
        const es = { ...signIn, clientId: CONF_ES.client_id };
        for (let i = 0; i < ROUNDS * CONNECTIONS * REFRESH_POOL_PER_CONNECTION; i++) esTokens.push(await signInFlow(es));
      }
      targets.push({ name, issuer, pid: (name === 'gatehouse' ? gatehouse : bare).pid, signIn, tokens, esTokens, deviceCode: await deviceCode(issuer) });
    }

    const entries: Entry[] = [];
    for (const scenario of SCENARIOS) {
      if (ONLY && !ONLY.includes(scenario.name)) continue;
      const [gh, bareTarget] = targets as [Target, Target];
      const q0 = await dbQueries(gh.issuer);
      const spec = scenario.spec(gh);
      const ghRounds: Measured[] = [];
      const bareRounds: Measured[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        ghRounds.push(await measured(gh, r === 0 ? spec : scenario.spec(gh)));
        if (scenario.bare) bareRounds.push(await measured(bareTarget, scenario.spec(bareTarget)));
      }
      const g = combined(ghRounds);
      const b = scenario.bare ? combined(bareRounds) : undefined;
      const queries = (await dbQueries(gh.issuer)) - q0;
      let at70: LoadResult | undefined;
      if (scenario.latencyTarget && spec.kind === 'http') {
        const again = scenario.name === 'refresh' ? scenario.spec(gh) : spec;
        at70 = await load({ ...again, rate: Math.max(1, Math.round(g.rps * LATENCY_LOAD)), warmupSeconds: 0 } as LoadSpec);
      }
      // the same latency run on the bare library, at 70% of its own peak: what the machine allows
      let bareAt70: LoadResult | undefined;
      if (b && scenario.latencyTarget && spec.kind === 'http') {
        bareAt70 = await load({ ...scenario.spec(bareTarget), rate: Math.max(1, Math.round(b.rps * LATENCY_LOAD)), warmupSeconds: 0 } as LoadSpec);
      }
      const entry: Entry = {
        scenario: scenario.name,
        gatehouse_rps: round(g.rps),
        bare_rps: b ? round(b.rps) : null,
        ratio: b ? round(g.rps / b.rps, 2) : null,
        p50_ms: g.p50_ms,
        p99_ms: g.p99_ms,
        cores: TASKSET && CORES > 1 ? 1 : CORES,
        p99_ms_at_70pct: at70 ? at70.p99_ms : null,
        bare_p50_ms: b ? b.p50_ms : null,
        bare_p99_ms: b ? b.p99_ms : null,
        bare_p99_ms_at_70pct: bareAt70 ? bareAt70.p99_ms : null,
        pg_queries_per_request: round(queries / Math.max(1, g.responses ?? g.ok), 2),
        gatehouse_cpu: round(g.cpu, 2),
        bare_cpu: b ? round(b.cpu, 2) : null,
        gatehouse_per_cpu_s: Math.round(g.perCpuSecond),
        bare_per_cpu_s: b ? Math.round(b.perCpuSecond) : null,
        cpu_ratio: b ? round(g.perCpuSecond / b.perCpuSecond, 2) : null,
        failed: g.failed + (b?.failed ?? 0) + (at70?.failed ?? 0) + (bareAt70?.failed ?? 0),
      };
      if (entry.failed) process.stderr.write(`${scenario.name}: unexpected responses ${JSON.stringify({ gatehouse: g.statuses, bare: b?.statuses, at70: at70?.statuses })}\n`);
      entries.push(entry);
      process.stdout.write(`${scenario.name}: ${Math.round(g.rps)}/s${b ? ` (bare ${Math.round(b.rps)}/s)` : ''}\n`);
    }

    const cpu = cpus()[0]?.model ?? 'unknown';
    const meta = {
      generated_at: new Date().toISOString(),
      machine: { cpu, cores: CORES, memory_gib: round(totalmem() / 2 ** 30), node: process.version, pinned: TASKSET && CORES > 1 },
      settings: { redis: OWN_REDIS ? 'own redis-server pinned to core 1' : 'shared REDIS_URL', rounds: ROUNDS, seconds: SECONDS, warmup_seconds: WARMUP_SECONDS, connections: CONNECTIONS, sign_in_concurrency: SIGNIN_CONCURRENCY, latency_load: LATENCY_LOAD },
      redis_bytes_per_sign_in: redisBytes,
      duration_seconds: Math.round((Date.now() - started) / 1000),
    };
    if (!ONLY) {
      writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(entries, null, 2)}\n`);
      writeFileSync(join(ROOT, 'bench/results-meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    }
    process.stdout.write(`\n${table(entries)}\n\n${cpu}, ${CORES} cores; servers ${meta.machine.pinned ? 'pinned to core 0, load generator to core 1' : 'not pinned'}; ${SECONDS} s per run, ${CONNECTIONS} connections\n`);
    process.stdout.write(`Redis bytes left by one sign-in: ${JSON.stringify(redisBytes)}\n`);
  } finally {
    for (const c of children.slice(OWN_REDIS ? 1 : 0).reverse()) await stop(c);
    await deleteKeys(redis, ghPrefix).catch(() => {});
    await deleteKeys(redis, barePrefix).catch(() => {});
    redis.disconnect();
    if (OWN_REDIS) await stop(children[0]!);
    await db.drop().catch(() => {});
    if (process.env.BENCH_KEEP) process.stdout.write(`servers' logs kept in ${scratch}\n`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
