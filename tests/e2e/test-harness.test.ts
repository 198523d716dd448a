// The README's test command must always exit: a suite whose setup fails halfway leaves no server
// process or browser behind (tests/support/environment.js stops them), so jest is not kept alive.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../..');
/** Far above the few seconds the fixture needs; a run kept alive by a leftover never ends by itself. */
const EXIT_WITHIN_MS = 45_000;

describe('the test harness', () => {
  it('exits after a suite whose beforeAll failed, with its server stopped (a browser too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-harness-'));
    try {
      const probe = join(dir, 'probe.json');
      const configFile = join(dir, 'jest.config.json');
      const config = (await import(pathToFileURL(join(ROOT, 'jest.config.js')).href) as { default: Record<string, unknown> }).default;
      writeFileSync(configFile, JSON.stringify({
        ...config, rootDir: ROOT, testMatch: ['<rootDir>/tests/fixtures/failing-setup.fixture.ts'],
      }));
      const child = spawn(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--config', configFile],
        { cwd: ROOT, env: { ...process.env, GATEHOUSE_PROBE_FILE: probe }, stdio: 'ignore' });
      const code = await new Promise<number | null | 'hung'>((res) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); res('hung'); }, EXIT_WITHIN_MS);
        child.once('exit', (c) => { clearTimeout(timer); res(c); });
      });
      expect(code).toBe(1); // it ran, failed as the fixture says, and exited
      const { issuer } = JSON.parse(readFileSync(probe, 'utf8')) as { issuer: string };
      // the server is gone: nothing listens on its port any more
      await expect(fetch(`${issuer}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
