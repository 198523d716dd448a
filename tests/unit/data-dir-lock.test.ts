// The embedded store's data-folder lock must survive PID reuse: in a container the server is PID 1
// on every start, so a lock left by a crash names the PID the next start runs under.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockHolder, lockPath, startToken, tryLock } from '../../src/storage/lock.ts';

let dir: string;
let other: ChildProcess | undefined;

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-lock-')); });
afterEach(() => {
  other?.kill();
  other = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A live process that is not this one, as another server would be. */
async function liveOther(): Promise<number> {
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => other!.once('spawn', r));
  return other.pid!;
}

test('a lock left by a crashed process that had our PID (PID 1 in a container) does not block a start', () => {
  writeFileSync(lockPath(dir), `${process.pid}\n${startToken(process.pid) ?? 'boot:1'}\n`);
  expect(lockHolder(dir)).toBeUndefined();
  const lock = tryLock(dir);
  expect(lock).toBeDefined();
  lock!.release();
  expect(existsSync(lockPath(dir))).toBe(false);
});

test('a lock in the old format (PID only) naming our own PID does not block a start either', () => {
  writeFileSync(lockPath(dir), String(process.pid));
  expect(tryLock(dir)).toBeDefined();
});

test('a live other process holding the lock still blocks', async () => {
  const pid = await liveOther();
  const token = startToken(pid);
  writeFileSync(lockPath(dir), token ? `${pid}\n${token}\n` : `${pid}\n`);
  expect(lockHolder(dir)).toBe(pid);
  expect(tryLock(dir)).toBeUndefined();
});

test('a lock whose PID now belongs to a process started later (PID reused) is stale', async () => {
  const pid = await liveOther();
  if (!startToken(pid)) throw new Error('this test needs /proc (Linux)');
  writeFileSync(lockPath(dir), `${pid}\nsome-earlier-boot:12345\n`);
  expect(lockHolder(dir)).toBeUndefined();
  const lock = tryLock(dir);
  expect(lock).toBeDefined();
  expect(readFileSync(lockPath(dir), 'utf8')).toBe(`${process.pid}\n${startToken(process.pid)}\n`);
});

test('the lock names its holder with a start token, and another reader sees it held', async () => {
  const lock = tryLock(dir)!;
  const [pidLine, token] = readFileSync(lockPath(dir), 'utf8').trim().split('\n');
  expect(Number(pidLine)).toBe(process.pid);
  expect(token).toBe(startToken(process.pid));
  // as seen from another process (the CLI): held by us
  const seen = await new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e',
      `import { lockHolder } from ${JSON.stringify(join(import.meta.dirname, '../../src/storage/lock.ts'))}; console.log(String(lockHolder(${JSON.stringify(dir)})));`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    child.on('exit', (code) => (code === 0 ? res(out.trim()) : rej(new Error(`exit ${code}`))));
  });
  expect(seen).toBe(String(process.pid));
  lock.release();
  expect(existsSync(lockPath(dir))).toBe(false);
});
