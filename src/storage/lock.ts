// Only one process may open an embedded database folder. The server holds this lock for its whole
// life and serves operator commands over a control socket beside it; a CLI that finds the lock held
// by a live server talks to that socket instead of opening the database (see src/ops/).
import { openSync, closeSync, writeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DataDirLock { release(): void }

export function lockPath(dataDir: string): string { return join(dataDir, 'gatehouse.lock'); }
export function controlSocketPath(dataDir: string): string { return join(dataDir, 'control.sock'); }

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** The pid of a live process holding the lock, or undefined. */
export function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch { return undefined; }
}

export function tryLock(dataDir: string): DataDirLock | undefined {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = lockPath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try { if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file); } catch { /* already gone */ }
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
