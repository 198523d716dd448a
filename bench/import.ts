// The import speed (issue 15): 100,000 users, each with a bcrypt hash and a workspace, imported by
// the real CLI (`gatehouse users import FILE --json`, a process of its own as an operator runs it)
// into a fresh Postgres database and into a fresh embedded (PGlite) data folder, each created and
// migrated beforehand (as a deployment's store is). Wall-clock time from the command's start to its
// exit: process start, reading and checking the file, and the writes.
//   node bench/import.ts                      (or: npm run bench -- import … see docs/performance.md)
//   BENCH_IMPORT_USERS=20000 node bench/import.ts     (a quicker run)
// Writes `import_postgres` and `import_embedded` entries into bench/results.json (others untouched).
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

const ROOT = resolve(import.meta.dirname, '..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const USERS = Number(process.env.BENCH_IMPORT_USERS ?? 100_000);
/** "A workspace each": every user owns a workspace of their own (100,000 workspaces, the harder case). */
const USERS_PER_WORKSPACE = 1;
/** The bar: 100,000 users in under a minute. */
const TARGET_SECONDS = 60;

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/**
 * A well-formed bcrypt hash ($2b$, cost 12, salt and digest of random bcrypt-base64): import stores
 * hashes verbatim and never computes one, so the bytes need only be real bcrypt syntax. (Making
 * 100,000 real cost-12 hashes would take hours; the sign-in tests use real ones.)
 */
function bcryptShaped(): string {
  const bytes = randomBytes(53);
  let s = '$2b$12$';
  for (const b of bytes) s += BCRYPT_ALPHABET[b % 64];
  return s;
}

function makeFile(path: string): void {
  const lines: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const ws = Math.floor(i / USERS_PER_WORKSPACE);
    lines.push(JSON.stringify({
      id: randomUUID(), email: `user${i}@bench.example`, email_verified: true, name: `User ${i}`,
      created_at: new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString(), password_hash: bcryptShaped(),
      workspaces: [{ slug: `tenant-${ws}`, name: `Tenant ${ws}`, role: i % USERS_PER_WORKSPACE === 0 ? 'owner' : 'member' }],
    }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const SECRET = randomBytes(32).toString('base64url');
const cli = (env: Record<string, string>, args: string[]) => spawnSync(process.execPath, ['src/cli/index.ts', ...args], {
  cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
  env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', GATEHOUSE_SECRET: SECRET, ...env },
});

function runImport(env: Record<string, string>, file: string): { seconds: number; report: Record<string, unknown> } {
  const ready = cli(env, ['users', 'list', '--json']); // creates and migrates the store
  if (ready.status !== 0) throw new Error(`cannot prepare the store: ${ready.stderr}`);
  const started = process.hrtime.bigint();
  const r = cli(env, ['users', 'import', file, '--json']);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`import failed (${r.status}): ${r.stderr}\n${r.stdout.slice(0, 2000)}`);
  return { seconds, report: JSON.parse(r.stdout) };
}

async function withFreshPostgres<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `gh_bench_import_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  try { return await fn(url.toString()); } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gh-bench-import-'));
try {
  const file = join(dir, 'users.jsonl');
  makeFile(file);
  const entries: Array<Record<string, unknown>> = [];
  const record = (store: string, seconds: number, report: Record<string, unknown>) => {
    if (report.created !== USERS || report.failed !== 0) throw new Error(`${store}: unexpected report ${JSON.stringify(report).slice(0, 500)}`);
    const entry = {
      scenario: `import_${store}`, users: USERS, workspaces: report.workspaces_created, seconds: Number(seconds.toFixed(1)),
      users_per_second: Math.round(USERS / seconds), target_seconds: TARGET_SECONDS, failed: report.failed,
    };
    entries.push(entry);
    console.log(`${entry.scenario.padEnd(18)} ${USERS} users in ${entry.seconds} s (${entry.users_per_second}/s)${seconds < TARGET_SECONDS ? '' : '  ABOVE TARGET'}`);
  };
  await withFreshPostgres(async (url) => {
    const { seconds, report } = runImport({ DATABASE_URL: url, GATEHOUSE_DATA_DIR: join(dir, 'pg-data') }, file);
    record('postgres', seconds, report);
  });
  {
    const { seconds, report } = runImport({ GATEHOUSE_DATA_DIR: join(dir, 'embedded') }, file);
    record('embedded', seconds, report);
  }
  if (USERS === 100_000) {
    const path = join(ROOT, 'bench/results.json');
    const results = JSON.parse(readFileSync(path, 'utf8')) as Array<Record<string, unknown>>;
    const kept = results.filter((r) => !String(r.scenario).startsWith('import_'));
    writeFileSync(path, `${JSON.stringify([...kept, ...entries], null, 2)}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
