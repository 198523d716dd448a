// Only one process may open an embedded database folder. The server holds this lock for its whole
// life and serves operator commands over a control socket beside it; a CLI that finds the lock held
// by a live server talks to that socket instead of opening the database (see src/ops/).
//
// The lock names its holder by PID *and* start token (the boot id and the process's start time,
// from /proc). A PID alone is not enough: in a container the server is PID 1 on every start, so a
// crash (OOM, docker kill) left a lock naming PID 1 that the next start, alive as PID 1, took for
// another live server — forever. A lock is held only while a process with that PID and that start
// token runs, and never by the process reading it (a process does not wait for itself).
import { openSync, closeSync, writeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DataDirLock { release(): void }

export function lockPath(dataDir: string): string { return join(dataDir, 'gatehouse.lock'); }
export function controlSocketPath(dataDir: string): string { return join(dataDir, 'control.sock'); }

/** Changes on every boot, so a start time from an earlier boot never matches (Linux only). */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** /proc/<pid>/stat field 22, starttime: clock ticks after boot (proc(5)). */
const STAT_STARTTIME_FIELD = 22;
/** Fields after the `(comm)` field, which may itself hold spaces and parentheses, start at 3. */
const STAT_FIRST_FIELD_AFTER_COMM = 3;

function readTrimmed(file: string): string | undefined {
  try { return readFileSync(file, 'utf8').trim(); } catch { return undefined; }
}

/**
 * "<boot id>:<start time>" of a running process, or undefined where /proc is not available (then
 * the PID alone decides, as before).
 */
export function startToken(pid: number): string | undefined {
  const boot = readTrimmed(BOOT_ID_FILE);
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!boot || !stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[STAT_STARTTIME_FIELD - STAT_FIRST_FIELD_AFTER_COMM];
  return start && /^\d+$/.test(start) ? `${boot}:${start}` : undefined;
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

interface LockRecord { pid: number; token?: string }

/** The lock file's content: the PID on the first line, the start token (if known) on the second. */
function format(record: LockRecord): string {
  return record.token ? `${record.pid}\n${record.token}\n` : `${record.pid}\n`;
}

function readLock(dataDir: string): LockRecord | undefined {
  const text = readTrimmed(lockPath(dataDir));
  if (!text) return undefined;
  const [pidLine, token] = text.split('\n').map((l) => l.trim());
  const pid = Number(pidLine);
  return Number.isInteger(pid) && pid > 0 ? { pid, token: token || undefined } : undefined;
}

/** Whether the process the lock names still runs: same PID, same start, and not us. */
function holds(record: LockRecord): boolean {
  if (record.pid === process.pid) return false; // left by an earlier process that had our PID (PID 1 in a container)
  if (!isAlive(record.pid)) return false;
  if (!record.token) return true; // written where /proc was not available: the PID is all we know
  const current = startToken(record.pid);
  return current === undefined || current === record.token; // a different start: the PID was reused
}

/** The pid of a live process holding the lock, or undefined. */
export function lockHolder(dataDir: string): number | undefined {
  const record = readLock(dataDir);
  return record && holds(record) ? record.pid : undefined;
}

export function tryLock(dataDir: string): DataDirLock | undefined {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = lockPath(dataDir);
  const mine = format({ pid: process.pid, token: startToken(process.pid) });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, mine);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try { if (readFileSync(file, 'utf8') === mine) unlinkSync(file); } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (lockHolder(dataDir) !== undefined) return undefined;
      try { unlinkSync(file); } catch { /* raced with another process */ } // stale: its owner died
    }
  }
  return undefined;
}

const LOCK_POLL_MS = 100;

/** Waits for the lock (a CLI command holds it only for a moment). */
export async function waitForLock(dataDir: string, timeoutMs: number): Promise<DataDirLock | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const lock = tryLock(dataDir);
    if (lock || Date.now() > until) return lock;
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}
