// Starts Gatehouse as a real child process (node src/main.ts), on real Postgres + Redis or on the
// embedded default, and runs the `gatehouse` CLI against the same configuration.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freshDatabase, requireReal } from './env.ts';
import { stopAtTeardown } from './leftovers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const READY_TIMEOUT_MS = 30_000;
/** SIGTERM first (a graceful stop is part of what is tested); SIGKILL if it takes longer than this. */
const STOP_GRACE_MS = 10_000;
/** Log lines leave the server in batches at least every 200 ms; a loaded machine may take longer. */
const LOG_SETTLE_MS = 2_000;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => res(port)); });
    s.on('error', rej);
  });
}

export interface TestServer {
  issuer: string;
  port: number;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log(): string;
  /**
   * The log once the server's batched log lines are out (src/observability/logger.ts flushes them
   * within LOG_FLUSH_MS): resolves as soon as `pattern` appears, or after that window with whatever
   * is there — so an absence is checked only once nothing more can arrive.
   */
  settledLog(pattern?: RegExp): Promise<string>;
  /** what the server wrote to stderr alone (its log lines go to stdout) */
  stderr(): string;
  /** `env` overrides the server's environment for this command only (e.g. an unreachable Redis) */
  cli(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  cliJson<T = any>(args: string[]): Promise<T>;
  stop(): Promise<void>;
  /** resolves when /readyz answers 200 (for servers started with noWait) */
  ready(): Promise<void>;
  /** resolves with the exit code (for servers expected to refuse to start) */
  exited(): Promise<number | null>;
  restart(): Promise<void>;
  /** stop + remove the data folder and the database */
  destroy(): Promise<void>;
}

export interface ServerOptions {
  /** embedded default (no DATABASE_URL / REDIS_URL) */
  embedded?: boolean;
  env?: Record<string, string>;
  /** share another server's data folder / database (multi-node) */
  shareWith?: TestServer;
  /** do not wait for readiness (e.g. when expecting a refusal to start) */
  noWait?: boolean;
  /** the issuer's host name (WebAuthn needs a domain such as localhost, not an IP) */
  host?: string;
  /** an https issuer; the server itself still speaks plain HTTP, as behind a TLS-terminating proxy */
  https?: boolean;
}

function spawnServer(env: NodeJS.ProcessEnv): { child: ChildProcess; output: string[]; errors: string[] } {
  const output: string[] = [];
  const errors: string[] = [];
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => { output.push(String(d)); errors.push(String(d)); });
  return { child, output, errors };
}

async function waitReady(base: string, child: ChildProcess, output: string[]): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output.join('')}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms:\n${output.join('')}`);
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const issuer = `${opts.https ? 'https' : 'http'}://${opts.host ?? '127.0.0.1'}:${port}`;
  const local = `http://127.0.0.1:${port}`; // where the process answers, whatever the issuer says
  const shared = opts.shareWith;
  const dataDir = shared?.dataDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'info',
    PORT: String(port), GATEHOUSE_ISSUER: issuer, GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_SECRET: shared?.env.GATEHOUSE_SECRET ?? 'test-secret-0123456789-abcdefghijklmnop',
    // each test deployment has its own Redis keys (rate-limit counters must not leak between runs)
    GATEHOUSE_REDIS_PREFIX: shared?.env.GATEHOUSE_REDIS_PREFIX ?? `t${randomBytes(4).toString('hex')}:`,
  };
  if (!opts.embedded) {
    const real = requireReal();
    if (shared) {
      base.DATABASE_URL = shared.env.DATABASE_URL;
    } else {
      db = await freshDatabase();
      base.DATABASE_URL = db.url;
    }
    base.REDIS_URL = real.redisUrl;
  }
  const env = { ...base, ...opts.env };
  let proc = spawnServer(env);

  let forget = () => {};
  const stop = async () => {
    forget();
    if (proc.child.exitCode !== null || proc.child.signalCode) return;
    const exited = new Promise((r) => proc.child.once('exit', r));
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  forget = stopAtTeardown(stop);
  const removeOwnData = async () => {
    if (shared) return;
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (!opts.noWait) {
    try {
      await waitReady(local, proc.child, proc.output);
    } catch (err) {
      // a server that never became ready must not outlive the failed setup (nor keep jest running)
      await stop();
      await removeOwnData().catch(() => {});
      throw err;
    }
  }

  const server: TestServer = {
    issuer, port, env, dataDir,
    log: () => proc.output.join(''),
    async settledLog(pattern) {
      const until = Date.now() + LOG_SETTLE_MS;
      for (;;) {
        const text = proc.output.join('');
        if ((pattern && pattern.test(text)) || Date.now() >= until) return text;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stderr: () => proc.errors.join(''),
    async cli(args, o = {}) {
      try {
        const child = exec(process.execPath, ['bin/gatehouse.js', ...args], { cwd: ROOT, env: { ...env, PORT: undefined, ...o.env } });
        if (o.input !== undefined) { child.child.stdin!.end(o.input); }
        const { stdout, stderr } = await child;
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
      }
    },
    async cliJson(args) {
      const r = await server.cli([...args, '--json']);
      if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    stop,
    ready: () => waitReady(local, proc.child, proc.output),
    exited: () => proc.child.exitCode !== null ? Promise.resolve(proc.child.exitCode) : new Promise((r) => proc.child.once('exit', (c) => r(c))),
    async restart() {
      await stop();
      proc = spawnServer(env);
      forget = stopAtTeardown(stop);
      await waitReady(local, proc.child, proc.output);
    },
    async destroy() {
      await stop();
      await removeOwnData();
    },
  };
  return server;
}
