// The load generator: runs in its own process (on its own core), one scenario per invocation.
//   node bench/load.ts '<json LoadSpec>'   → prints one JSON LoadResult line
// HTTP scenarios use autocannon; the sign-in scenario is a multi-request browser flow, so it runs
// as a closed loop of complete flows over fetch.
import autocannon from 'autocannon';
import { signInFlow, type SignInTarget } from './flows.ts';

export interface HttpSpec {
  kind: 'http';
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** refresh with rotation: each request spends one refresh token and returns the rotated one to the pool */
  refreshPool?: { tokens: string[]; basic: string };
  /** statuses that count as success (e.g. 400 for device-flow polling: authorization_pending) */
  expect: number[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** requests per second across all connections (latency at a fixed load); peak when unset */
  rate?: number;
}

export interface FlowSpec {
  kind: 'signin';
  target: SignInTarget;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
}

export type LoadSpec = HttpSpec | FlowSpec;

export interface LoadResult {
  rps: number; p50_ms: number; p99_ms: number; ok: number; failed: number; statuses: Record<string, number>;
  /** every response, warm-up included (the runner divides the SQL query count by it) */
  responses?: number;
}

function refreshRequests(pool: NonNullable<HttpSpec['refreshPool']>): autocannon.Request[] {
  const free = [...pool.tokens];
  return [{
    method: 'POST',
    setupRequest(req) {
      // one token per in-flight request; the pool holds more tokens than connections
      const token = free.shift();
      if (!token) throw new Error('refresh pool exhausted');
      return { ...req, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}` };
    },
    onResponse(status, body) {
      if (status === 200) free.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
  } as autocannon.Request];
}

async function runHttp(spec: HttpSpec, seconds: number, requests?: autocannon.Request[]): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  // autocannon's own histogram has 1 ms resolution; token endpoints answer in a fraction of that
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolveRun, rejectRun) => {
    const instance = autocannon({
      url: spec.url,
      method: spec.method,
      headers: spec.refreshPool
        ? { ...spec.headers, authorization: spec.refreshPool.basic, 'content-type': 'application/x-www-form-urlencoded' }
        : spec.headers,
      body: spec.body,
      requests,
      connections: spec.connections,
      duration: seconds,
      overallRate: spec.rate,
      timeout: 10,
    }, (err, res) => (err ? rejectRun(err) : resolveRun(res)));
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latencies.push(responseTime);
    });
  });
  const ok = spec.expect.reduce((n, s) => n + (statuses[s] ?? 0), 0);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / seconds,
    p50_ms: round2(percentile(latencies, 50)),
    p99_ms: round2(percentile(latencies, 99)),
    ok,
    failed: total - ok + result.errors + result.timeouts,
    statuses,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runFlows(spec: FlowSpec, seconds: number): Promise<LoadResult> {
  const until = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failed = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        await signInFlow(spec.target);
        latencies.push(performance.now() - started);
        statuses['200'] = (statuses['200'] ?? 0) + 1;
      } catch (err) {
        failed++;
        const key = (err as Error).message.slice(0, 60);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50_ms: round2(percentile(latencies, 50)),
    p99_ms: round2(percentile(latencies, 99)),
    ok: latencies.length,
    failed,
    statuses,
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  // built once: the warm-up and the measured run share the refresh pool (a spent token is gone)
  const requests = spec.kind === 'http' && spec.refreshPool ? refreshRequests(spec.refreshPool) : undefined;
  const run = (seconds: number) => (spec.kind === 'http' ? runHttp(spec, seconds, requests) : runFlows(spec, seconds));
  const warm = spec.warmupSeconds > 0 ? await run(spec.warmupSeconds) : undefined;
  const result = await run(spec.seconds);
  result.responses = result.ok + result.failed + (warm ? warm.ok + warm.failed : 0);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
