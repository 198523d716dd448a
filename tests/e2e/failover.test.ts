// Highly available Redis under two Gatehouse nodes: a Redis Cluster (six redis-server processes)
// and a Sentinel group, both the test's own (tests/support/redis-topologies.ts).
//  - The operator CLI opens the same Redis as the server (topology and key prefix): disabling a
//    user ends their access and refresh tokens on every node, and enabling them again does not
//    bring those back. When Redis fails half-way, the CLI says what is left undone, the account's
//    tokens are refused meanwhile, enabling waits for the revocation, and a rerun finishes it.
//  - A primary killed under a bounded load (client_credentials, refresh and introspection loops
//    over both nodes): no 500, no 200 for a token that was not stored, no grant revoked by the
//    outage, recovery without a restart. The failover as a client sees it is printed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { startServer, freePort, type TestServer } from '../support/server.ts';
import { startRedisCluster, startRedisSentinels } from '../support/redis-topologies.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'failover without lies';
/** Exit code of a CLI command that a store failure left undone (EX_TEMPFAIL: run it again). */
const EXIT_TEMPFAIL = 75;
/** Every node drops a changed account from its cache on Postgres' NOTIFY: a moment, not a TTL. */
const NOTIFY_MS = 3000;
/** The documented bound for any answer while a store is failing (docs/configuration.md). */
const FAST_MS = 3000;
/** The load lasts until every loop has succeeded again after the kill, or this long after it. */
const LOAD_AFTER_KILL_MAX_MS = 30_000;
/** …and this much longer once it has, to see that it stays well. */
const LOAD_TAIL_MS = 1500;
/** Bounded load: each loop waits this long between its requests, and stops after so many. */
const LOOP_PAUSE_MS = 25;
const LOOP_MAX_REQUESTS = 1500;
/** A refresh answered 503 is retried after this (sooner than Retry-After: to see the recovery). */
const RETRY_PAUSE_MS = 200;
const REQUEST_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Topology {
  env: Record<string, string>;
  /** SIGKILL the primary that holds Gatehouse's keys (prefix `{p}:` on a Cluster); resolves with a
   * wait for Redis' own failover (a replica promoted and answering as the primary) */
  killPrimary(prefix: string): Promise<() => Promise<void>>;
  /** an env for the CLI whose Redis cannot be reached (same topology, same prefix) */
  unreachable(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

const TOPOLOGIES: Array<{ name: string; start(): Promise<Topology> }> = [
  {
    name: 'Redis Cluster (3 primaries, 3 replicas)',
    async start() {
      const c = await startRedisCluster();
      return {
        env: { REDIS_URL: c.url, GATEHOUSE_REDIS_CLUSTER: 'true' },
        async killPrimary(prefix) {
          const key = `{${prefix.replace(/:$/, '')}}:probe`;
          await c.killPrimaryOf(key);
          return () => c.servedAgain(key);
        },
        unreachable: async () => ({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }),
        stop: () => c.stop(),
      };
    },
  },
  {
    name: 'Redis Sentinel (a primary, a replica, 3 sentinels)',
    async start() {
      const s = await startRedisSentinels();
      return {
        env: { REDIS_URL: s.url, GATEHOUSE_REDIS_SENTINELS: s.sentinels },
        async killPrimary() {
          const old = await s.killPrimary();
          return async () => { await s.failedOver(old); };
        },
        unreachable: async () => ({ GATEHOUSE_REDIS_SENTINELS: `127.0.0.1:${await freePort()}` }),
        stop: () => s.stop(),
      };
    },
  },
];

describe.each(TOPOLOGIES)('$name', ({ start }) => {
  const prefix = `fo${randomBytes(3).toString('hex')}:`;
  let topology: Topology | undefined;
  let nodes: TestServer[] = [];
  let client: { client_id: string; client_secret: string };

  const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  const post = (node: TestServer, path: string, body: Record<string, string>) => fetch(`${node.issuer}${path}`, {
    method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const introspect = async (node: TestServer, token: string) => {
    const r = await post(node, '/token/introspection', { token });
    return { status: r.status, active: r.status === 200 ? ((await r.json()) as { active: boolean }).active : undefined };
  };
  const refresh = async (node: TestServer, token: string) => {
    const r = await post(node, '/token', { grant_type: 'refresh_token', refresh_token: token });
    return { status: r.status, body: await r.json() as Record<string, string> };
  };
  const me = async (node: TestServer, token: string) => (await fetch(`${node.issuer}/me`, { headers: { authorization: `Bearer ${token}` } })).status;

  async function signInAs(email: string) {
    const issuer = nodes[0]!.issuer;
    const o = { issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT };
    return (await signIn(await discover(o), { ...o, email, password: PASSWORD })).tokens;
  }

  /** Neither token works on any node: inactive at introspection, 401 at /me, no refresh. */
  async function refusedEverywhere(tokens: { access: string; refresh: string }) {
    for (const node of nodes) {
      expect(await introspect(node, tokens.access)).toEqual({ status: 200, active: false });
      expect(await introspect(node, tokens.refresh)).toEqual({ status: 200, active: false });
      expect(await me(node, tokens.access)).toBe(401);
      const r = await refresh(node, tokens.refresh);
      expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    }
  }

  /** The account signs in again and its new token works on every node (so a refusal is not the account's). */
  async function activeEverywhere(email: string) {
    const fresh = await signInAs(email);
    await soon(async () => { for (const node of nodes) expect(await me(node, fresh.access_token)).toBe(200); });
  }

  /** Waits out the cache notification, then asserts as `check` does. */
  async function soon(check: () => Promise<void>) {
    const until = Date.now() + NOTIFY_MS;
    for (;;) {
      try { return await check(); } catch (e) { if (Date.now() > until) throw e; }
      await sleep(100);
    }
  }

  beforeAll(async () => {
    topology = await start();
    const env = { ...topology.env, GATEHOUSE_REDIS_PREFIX: prefix };
    const first = await startServer({ env, noWait: true });
    // the same issuer on both nodes, as behind a load balancer
    nodes = [first, await startServer({ shareWith: first, noWait: true, env: { ...env, GATEHOUSE_ISSUER: first.issuer } })];
    await Promise.all(nodes.map((n) => n.ready()));
    client = await first.cliJson(['clients', 'create', '--name', 'Failover', '--redirect-uri', REDIRECT,
      '--grant-types', 'authorization_code,refresh_token,client_credentials']);
    await Promise.all(['disabled', 'halfway', 'load'].map((who) => first.cliJson(['users', 'create', '--email', `${who}@example.test`, '--password', PASSWORD])));
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes.slice(1).reverse()) await n.stop();
    await nodes[0]?.destroy();
    await topology?.stop();
  }, 60_000);

  it('the CLI disables a user: their access and refresh tokens stop on every node, and enabling does not revive them', async () => {
    const signedIn = await signInAs('disabled@example.test');
    // a refresh on the other node: the grant is live on both
    const rotated = await refresh(nodes[1]!, signedIn.refresh_token!);
    expect(rotated.status).toBe(200);
    const tokens = { access: rotated.body.access_token!, refresh: rotated.body.refresh_token! };
    for (const node of nodes) expect(await me(node, tokens.access)).toBe(200);

    const disabled = await nodes[0]!.cli(['users', 'disable', 'disabled@example.test']);
    expect({ code: disabled.code, stderr: disabled.stderr }).toEqual({ code: 0, stderr: '' });
    await refusedEverywhere(tokens); // revoked in Redis: no cache delay

    const enabled = await nodes[1]!.cli(['users', 'enable', 'disabled@example.test']);
    expect(enabled.code).toBe(0);
    await activeEverywhere('disabled@example.test'); // the account is active again on every node…
    await refusedEverywhere(tokens); // …and its old tokens stay dead
  }, 90_000);

  it('a disable that Redis fails half-way says what is left, is safe meanwhile, and finishes when run again', async () => {
    const signedIn = await signInAs('halfway@example.test');
    const tokens = { access: signedIn.access_token, refresh: signedIn.refresh_token! };
    const noRedis = await topology!.unreachable();

    const first = await nodes[0]!.cli(['users', 'disable', 'halfway@example.test'], { env: noRedis });
    expect(first.code).toBe(EXIT_TEMPFAIL);
    expect(first.stderr).toMatch(/halfway@example\.test is disabled .*could not be ended yet.*Run the same command again/);
    // the grant is still in Redis, but a disabled account's tokens are refused on every node
    await soon(() => refusedEverywhere(tokens));

    // enabling now would bring the grant back: it waits for the revocation, and says so
    const early = await nodes[0]!.cli(['users', 'enable', 'halfway@example.test'], { env: noRedis });
    expect(early.code).toBe(EXIT_TEMPFAIL);
    expect(early.stderr).toMatch(/still disabled/);
    expect((await nodes[0]!.cliJson(['users', 'show', 'halfway@example.test'])).disabled).toBe(true);

    const rerun = await nodes[0]!.cli(['users', 'disable', 'halfway@example.test']);
    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await nodes[0]!.cli(['users', 'enable', 'halfway@example.test'])).code).toBe(0);
    await activeEverywhere('halfway@example.test');
    await refusedEverywhere(tokens); // the rerun revoked them: enabled, and still dead
  }, 90_000);

  it('a primary killed under load: no 500, no 200 for an unstored token, no grant lost, recovery without restart', async () => {
    // two grants to refresh over and over, and a token to introspect over and over
    const grants = [await signInAs('load@example.test'), await signInAs('load@example.test')].map((t) => ({ refresh: t.refresh_token! }));
    const anchorRes = await post(nodes[0]!, '/token', { grant_type: 'client_credentials' });
    expect(anchorRes.status).toBe(200);
    const anchor = ((await anchorRes.json()) as { access_token: string }).access_token;

    interface Sample { loop: string; status: number; at: number; ms: number; retryAfter: string | null; note: string }
    const samples: Sample[] = [];
    const issued: string[] = [];
    const lies: string[] = [];
    let killedAt = 0;
    let stopAt = Infinity;
    const recovered = new Set<string>();

    async function loop(name: string, step: (node: TestServer) => Promise<{ res: Response; body: any }>) {
      for (let i = 0; i < LOOP_MAX_REQUESTS && Date.now() < stopAt; i++) {
        const node = nodes[i % nodes.length]!;
        const at = Date.now();
        let sample: Sample;
        try {
          const { res, body } = await step(node);
          sample = { loop: name, status: res.status, at, ms: Date.now() - at, retryAfter: res.headers.get('retry-after'), note: res.status === 200 ? '' : JSON.stringify(body).slice(0, 200) };
        } catch (e) {
          sample = { loop: name, status: 0, at, ms: Date.now() - at, retryAfter: null, note: String(e) };
        }
        samples.push(sample);
        if (killedAt && sample.status === 200 && samples.some((s) => s.loop === name && s.at > killedAt && s.status !== 200)) recovered.add(name);
        await sleep(sample.status === 200 ? LOOP_PAUSE_MS : RETRY_PAUSE_MS);
      }
    }
    const json = async (res: Response) => res.json().catch(() => ({})) as Promise<Record<string, any>>;

    const loops = [
      loop('client_credentials', async (node) => {
        const res = await post(node, '/token', { grant_type: 'client_credentials' });
        const body = await json(res);
        if (res.status === 200) issued.push(body.access_token);
        return { res, body };
      }),
      loop('introspection', async (node) => {
        const res = await post(node, '/token/introspection', { token: anchor });
        const body = await json(res);
        if (res.status === 200 && body.active !== true) lies.push(`introspection of a live token on ${node.issuer}: ${JSON.stringify(body)}`);
        return { res, body };
      }),
      ...grants.map((grant, g) => loop(`refresh ${g + 1}`, async (node) => {
        // a 503 leaves the refresh token as it was: the same one is presented again
        const res = await post(node, '/token', { grant_type: 'refresh_token', refresh_token: grant.refresh });
        const body = await json(res);
        if (res.status === 200) grant.refresh = body.refresh_token;
        return { res, body };
      })),
    ];

    await sleep(1500); // the load runs before the kill
    killedAt = Date.now();
    const failedOver = await topology!.killPrimary(prefix);
    const names = ['client_credentials', 'introspection', ...grants.map((_, g) => `refresh ${g + 1}`)];
    const deadline = killedAt + LOAD_AFTER_KILL_MAX_MS;
    await failedOver();
    const promotedAt = Date.now();
    // then until every loop that saw the outage has answered 200 again
    while (Date.now() < deadline && !names.every((n) => recovered.has(n) || !samples.some((s) => s.loop === n && s.at > killedAt && s.status !== 200))) {
      await sleep(100);
    }
    await sleep(LOAD_TAIL_MS);
    stopAt = 0;
    await Promise.all(loops);

    // how long the failover lasts for a client: first failure after the kill → first 200 after it
    const after = samples.filter((s) => s.at >= killedAt).sort((a, b) => a.at - b.at);
    const firstFailure = after.find((s) => s.status !== 200);
    const backAgain = firstFailure && after.find((s) => s.at > firstFailure.at && s.status === 200);
    const lastFailure = [...after].reverse().find((s) => s.status !== 200);
    const counts = Object.entries(samples.reduce<Record<string, number>>((m, s) => ({ ...m, [`${s.loop} ${s.status}`]: (m[`${s.loop} ${s.status}`] ?? 0) + 1 }), {}));
    process.stdout.write(`\n[failover] ${expect.getState().currentTestName}\n`
      + `  Redis promoted a replica ${promotedAt - killedAt} ms after the kill\n`
      + `  kill → first failure: ${firstFailure ? firstFailure.at - killedAt : '-'} ms; first failure → first 200 again: ${firstFailure && backAgain ? backAgain.at + backAgain.ms - firstFailure.at : '-'} ms; kill → last failure: ${lastFailure ? lastFailure.at - killedAt : '-'} ms\n`
      + `  ${counts.map(([k, n]) => `${k}: ${n}`).join(', ')}\n`);

    // no 500, no hang: every failure is a fast 503 with Retry-After
    const wrong = samples.filter((s) => s.status !== 200 && !(s.status === 503 && s.retryAfter !== null));
    if (wrong.length) {
      // what the nodes logged about it (error level), for whoever reads the failure
      const errors = nodes.flatMap((n) => n.log().split('\n').filter((l) => l.includes('"level":50'))).slice(0, 5);
      process.stdout.write(`  node errors:\n${errors.map((l) => `    ${l.slice(0, 1500)}`).join('\n')}\n`);
    }
    expect(wrong.map((s) => `${s.loop}: ${s.status} after ${s.ms} ms ${s.note}`)).toEqual([]);
    expect(samples.filter((s) => s.ms >= FAST_MS).map((s) => `${s.loop}: ${s.status} after ${s.ms} ms`)).toEqual([]);
    // no "inactive" for a live token because a read failed
    expect(lies).toEqual([]);
    // recovery without a restart: every loop answered 200 again, on the same processes
    expect(names.filter((n) => !samples.some((s) => s.loop === n && s.status === 200 && s.at > (lastFailure?.at ?? killedAt)))).toEqual([]);
    for (const node of nodes) expect((await fetch(`${node.issuer}/readyz`)).status).toBe(200);

    // no 200 for a token that was not stored: every token handed out introspects as active
    const inactive: string[] = [];
    for (const [i, token] of issued.entries()) {
      const r = await introspect(nodes[i % nodes.length]!, token);
      if (r.status !== 200 || r.active !== true) inactive.push(`#${i}: ${JSON.stringify(r)}`);
    }
    expect({ issued: issued.length, inactive }).toEqual({ issued: issued.length, inactive: [] });
    // no grant revoked by the outage: each grant's current refresh token still refreshes, on both nodes
    for (const grant of grants) {
      for (const node of nodes) {
        const r = await refresh(node, grant.refresh);
        expect({ status: r.status, error: r.body.error }).toEqual({ status: 200, error: undefined });
        grant.refresh = r.body.refresh_token!;
      }
    }
  }, 120_000);
});
