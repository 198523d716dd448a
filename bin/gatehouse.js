#!/usr/bin/env node
// The `gatehouse` command. The CLI is TypeScript run directly by Node 24 (type stripping). This
// launcher is plain JavaScript so that any Node can start it — `gatehouse` on a PATH whose `node`
// is older, e.g. after `npm install -g /path/to/gatehouse` — and then runs the CLI on a Node that
// can: this one when it strips types, else the Node 24 that `npm install` put in the checkout
// (the `node` package, node_modules/node). It never goes through npm, so it prints no npm
// warnings (npm's EBADENGINE comes from `npx`/`npm exec` running on an older Node).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../src/cli/index.ts', import.meta.url);

if (process.features.typescript) {
  await import(cli.href);
} else {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`gatehouse: needs Node.js 24 (this is ${process.version}): run npm install in ${root} (it brings its own Node 24), or install Node.js 24.\n`);
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(cli), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the CLI itself (same process group): this launcher only waits for it to finish
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`gatehouse: could not start ${pinned}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
