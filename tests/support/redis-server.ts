// A throwaway redis-server of the test's own (no persistence), which the test may kill and restart
// on the same port, for the fault tests. The shared Redis of REDIS_URL is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from './server.ts';
import { stopAtTeardown } from './leftovers.ts';

const READY_TIMEOUT_MS = 10_000;

export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL: the server vanishes mid-request, as in a crash */
  kill(): Promise<void>;
  /** a fresh, empty server on the same port */
  start(): Promise<void>;
  /**
   * SIGSTOP: the server stops answering but keeps its connections and keeps accepting new ones
   * (the kernel completes the handshake), as a Redis stuck in a long fork or a stalled VM does
   */
  freeze(): void;
  /** SIGCONT: it answers again, working through what queued up meanwhile */
  thaw(): void;
  stop(): Promise<void>;
}

async function waitForPing(url: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const ok = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
    probe.disconnect();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server at ${url} did not answer within ${READY_TIMEOUT_MS} ms`);
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    url, port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
      await waitForPing(url);
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    freeze() { if (!child?.kill('SIGSTOP')) throw new Error('no redis-server to freeze'); },
    thaw() { if (!child?.kill('SIGCONT')) throw new Error('no redis-server to thaw'); },
    async stop() { forget(); child?.kill('SIGCONT'); await own.kill(); },
  };
  const forget = stopAtTeardown(() => own.stop());
  await own.start();
  return own;
}

export interface StallingProxy {
  url: string;
  /**
   * The next time a connection sends a write holding every one of `markers`, that write goes
   * through and everything the connection sends after it is held back, never delivered: Redis as
   * seen by that connection froze right after that command. One-shot; other connections are not
   * touched. Deterministic where a SIGSTOP could not be timed (between two commands of one request).
   */
  stallAfter(...markers: Array<string | RegExp>): void;
  /** how many connections stalled so far */
  stalled(): number;
  close(): Promise<void>;
}

/** A TCP proxy in front of a redis-server, for faults inside one request. */
export async function startStallingProxy(targetPort: number): Promise<StallingProxy> {
  const { createServer, connect } = await import('node:net');
  let armed: Array<string | RegExp> | undefined;
  let stalls = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client); sockets.add(upstream);
    let frozen = false;
    client.on('data', (chunk) => {
      if (frozen) return;
      upstream.write(chunk);
      const text = chunk.toString('latin1');
      if (armed && armed.every((m) => (typeof m === 'string' ? text.includes(m) : m.test(text)))) {
        armed = undefined;
        frozen = true;
        stalls++;
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end); upstream.on('close', end);
    client.on('error', end); upstream.on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    stallAfter(...markers) { armed = markers; },
    stalled: () => stalls,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
