// Highly available Redis shapes of the test's own, for the failover tests: a Cluster of six
// redis-server processes (3 primaries, 3 replicas) and a Sentinel group (a primary, a replica and
// three sentinels). Every process listens on 127.0.0.1 on free ports, keeps its files in one temp
// folder, and is killed (and the folder removed) by stop(), also when start-up fails half-way.
// Timeouts are short so that a failover takes seconds, not the production defaults' half a minute.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './server.ts';
import { stopAtTeardown } from './leftovers.ts';

const exec = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 50;
/** A primary that stops answering this long is failed over (production: 15 s or more). */
const CLUSTER_NODE_TIMEOUT_MS = 1000;
const SENTINEL_DOWN_AFTER_MS = 1000;
const SENTINEL_FAILOVER_TIMEOUT_MS = 5000;
export const SENTINEL_GROUP = 'ghprimary';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running redis-server (or sentinel) process. */
interface Proc { port: number; child: ChildProcess; role: string }

class Processes {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  readonly list: Proc[] = [];
  /** a suite that never reaches its own teardown still leaves no redis-server behind */
  private readonly forget = stopAtTeardown(() => this.stopAll());
  spawn(port: number, role: string, args: string[]): Proc {
    const child = spawn('redis-server', args, { cwd: this.dir, stdio: 'ignore' });
    child.on('error', () => {}); // a missing binary shows as a ping that never answers
    const p = { port, child, role };
    this.list.push(p);
    return p;
  }
  async kill(p: Proc): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode) return;
    const exited = once(p.child, 'exit');
    p.child.kill('SIGKILL');
    await exited;
  }
  async stopAll(): Promise<void> {
    this.forget();
    await Promise.all(this.list.map((p) => this.kill(p)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One command to one process, on a connection that never retries (a probe, not a client). */
async function ask(port: number, ...cmd: string[]): Promise<unknown> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(cmd[0]!, ...cmd.slice(1));
  } finally {
    r.disconnect();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = READY_TIMEOUT_MS): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`redis test topology: ${what} not within ${ms} ms`);
    await sleep(POLL_MS);
  }
}

const infoField = (info: unknown, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(String(info))?.[1]?.trim();

const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'];
/** What docs/redis.md asks of production: a store that refuses writes rather than evicting records. */
const NO_EVICTION = ['--maxmemory-policy', 'noeviction'];

export interface RedisCluster {
  /** a seed node for REDIS_URL (with GATEHOUSE_REDIS_CLUSTER=true) */
  url: string;
  ports: number[];
  /** SIGKILL the primary that serves `key`'s hash slot; returns its port */
  killPrimaryOf(key: string): Promise<number>;
  /** resolves once the slot of `key` is served by a primary that answers (after a failover) */
  servedAgain(key: string): Promise<void>;
  stop(): Promise<void>;
}

/** Six nodes: `redis-cli --cluster create … --cluster-replicas 1` makes three primaries with a replica each. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const procs = new Processes();
  try {
    const ports = await distinctFreePorts(12);
    const nodes = ports.slice(0, 6);
    nodes.forEach((port, i) => procs.spawn(port, 'cluster', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', procs.dir,
      // the bus port is free too (the default, port + 10000, may be taken on a busy machine)
      '--cluster-enabled', 'yes', '--cluster-port', String(ports[6 + i]), '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS), ...NO_PERSISTENCE, ...NO_EVICTION,
    ]));
    await Promise.all(nodes.map((port) => waitFor(`cluster node ${port}`, async () => (await ask(port, 'PING')) === 'PONG')));
    await exec('redis-cli', ['--cluster', 'create', ...nodes.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: READY_TIMEOUT_MS });
    // every node agrees the cluster is whole, and every primary has a replica that is in sync
    await Promise.all(nodes.map((port) => waitFor(`cluster state on ${port}`, async () => infoField(await ask(port, 'CLUSTER', 'INFO'), 'cluster_state') === 'ok')));
    await waitFor('replicas in sync', async () => {
      const roles = await Promise.all(nodes.map(async (port) => String(await ask(port, 'INFO', 'replication'))));
      return roles.filter((r) => infoField(r, 'role') === 'slave' && infoField(r, 'master_link_status') === 'up').length === 3;
    });

    const primaryOf = async (key: string): Promise<number | undefined> => {
      for (const port of nodes) {
        if (procs.list.find((p) => p.port === port)!.child.exitCode !== null) continue;
        const slot = Number(await ask(port, 'CLUSTER', 'KEYSLOT', key).catch(() => NaN));
        if (Number.isNaN(slot)) continue;
        const shards = await ask(port, 'CLUSTER', 'SLOTS').catch(() => undefined) as Array<[number, number, [string, number, ...unknown[]]]> | undefined;
        const shard = shards?.find(([from, to]) => slot >= from && slot <= to);
        if (shard) return Number(shard[2][1]);
      }
      return undefined;
    };
    return {
      url: `redis://127.0.0.1:${nodes[0]}`,
      ports: nodes,
      async killPrimaryOf(key) {
        const port = await primaryOf(key);
        if (port === undefined) throw new Error(`no primary serves ${key}`);
        await procs.kill(procs.list.find((p) => p.port === port)!);
        return port;
      },
      async servedAgain(key) {
        await waitFor(`a primary for ${key}`, async () => {
          const port = await primaryOf(key);
          return port !== undefined && infoField(await ask(port, 'INFO', 'replication'), 'role') === 'master';
        }, 30_000);
      },
      stop: () => procs.stopAll(),
    };
  } catch (e) {
    await procs.stopAll();
    throw e;
  }
}

export interface RedisSentinels {
  /** REDIS_URL: the group's name where the host would be */
  url: string;
  /** GATEHOUSE_REDIS_SENTINELS */
  sentinels: string;
  /** SIGKILL the current primary; returns its port */
  killPrimary(): Promise<number>;
  /** resolves once the sentinels name a new primary that answers as one */
  failedOver(oldPort: number): Promise<number>;
  stop(): Promise<void>;
}

/** A primary, one replica and three sentinels (quorum 2), each sentinel aware of the others. */
export async function startRedisSentinels(): Promise<RedisSentinels> {
  const procs = new Processes();
  try {
    const [primary, replica, ...sentinels] = await distinctFreePorts(5) as [number, number, ...number[]];
    const data = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', procs.dir, ...NO_PERSISTENCE, ...NO_EVICTION];
    procs.spawn(primary, 'primary', data(primary));
    procs.spawn(replica, 'replica', [...data(replica), '--replicaof', '127.0.0.1', String(primary)]);
    await waitFor('the replica in sync', async () => infoField(await ask(replica, 'INFO', 'replication'), 'master_link_status') === 'up');
    for (const port of sentinels) {
      // a sentinel rewrites its own configuration file: one each, in the temp folder
      const file = join(procs.dir, `sentinel-${port}.conf`);
      writeFileSync(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${procs.dir}`,
        `sentinel monitor ${SENTINEL_GROUP} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_GROUP} ${SENTINEL_DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${SENTINEL_GROUP} ${SENTINEL_FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${SENTINEL_GROUP} 1`, '',
      ].join('\n'));
      procs.spawn(port, 'sentinel', [file, '--sentinel']);
    }
    // a failover needs every sentinel to know the replica and a majority of the others
    await Promise.all(sentinels.map((port) => waitFor(`sentinel ${port} to see the group`, async () => {
      const replicas = await ask(port, 'SENTINEL', 'REPLICAS', SENTINEL_GROUP) as unknown[];
      const peers = await ask(port, 'SENTINEL', 'SENTINELS', SENTINEL_GROUP) as unknown[];
      return replicas.length === 1 && peers.length === sentinels.length - 1;
    })));

    const current = async () => {
      for (const port of sentinels) {
        const addr = await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_GROUP).catch(() => undefined) as [string, string] | undefined;
        if (addr) return Number(addr[1]);
      }
      throw new Error('no sentinel answers');
    };
    return {
      url: `redis://${SENTINEL_GROUP}`,
      sentinels: sentinels.map((p) => `127.0.0.1:${p}`).join(','),
      async killPrimary() {
        const port = await current();
        await procs.kill(procs.list.find((p) => p.port === port)!);
        return port;
      },
      async failedOver(oldPort) {
        let now = oldPort;
        await waitFor('a new primary', async () => {
          now = await current();
          return now !== oldPort && infoField(await ask(now, 'INFO', 'replication'), 'role') === 'master';
        }, 30_000);
        return now;
      },
      stop: () => procs.stopAll(),
    };
  } catch (e) {
    await procs.stopAll();
    throw e;
  }
}

/** Free ports, none twice (freePort alone may hand out the same port to two quick calls). */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
