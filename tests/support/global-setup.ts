// Runs once before any suite: the integration and end-to-end suites need PostgreSQL, Redis and
// Chromium. When one is missing the run stops here with one sentence that says what to start,
// instead of a hundred failures (README.md, "Tests").
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { CHROMIUM_EXECUTABLE, DATABASE_URL, PYTHON, PYTHON_MODULES, PYTHON_PACKAGES, REDIS_URL } from './env.ts';

/** Long enough for a loaded machine to accept a local connection, short enough to fail at once. */
const PROBE_TIMEOUT_MS = 3000;

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || defaultPort) });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');

export default async function globalSetup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable(DATABASE_URL, 5432))) {
    missing.push(`PostgreSQL does not answer at ${redact(DATABASE_URL)} (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set DATABASE_URL)`);
  }
  if (!(await reachable(REDIS_URL, 6379))) {
    missing.push(`Redis does not answer at ${redact(REDIS_URL)} (start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no, or set REDIS_URL)`);
  }
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    missing.push(`Chromium is not at ${CHROMIUM_EXECUTABLE} (install it: apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  const python = spawnSync(PYTHON, ['-c', `import ${PYTHON_MODULES.join(', ')}`], { stdio: 'ignore' });
  if (python.status !== 0) {
    missing.push(`Debian's Python packages for the interop tests are missing (install them: apt-get install ${PYTHON_PACKAGES.join(' ')})`);
  }
  if (missing.length) {
    process.stderr.write(`\nThe tests need services that are not running: ${missing.join('; ')}. See README.md, "Tests".\n\n`);
    process.exit(1);
  }
}
