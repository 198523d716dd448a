// Discovery and the JWKS: after the first plain GET a node answers from the response it kept for
// its current key set (src/oidc/fast-path.ts). The kept answer must be the provider's own — same
// bytes, same headers — with a request id, a log line and metrics of its own, and a key rotation
// must show in the JWKS as it did before the responses were kept.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startServer, type TestServer } from '../support/server.ts';

const METRICS_TOKEN = 'fast-path-metrics-token-0123456789';
let gh: TestServer;

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN, GATEHOUSE_KEY_REFRESH_SECONDS: '1' } });
});
afterAll(async () => { await gh?.destroy(); });

async function requestsCounted(path: string): Promise<number> {
  const text = await (await fetch(`${gh.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const series = `gatehouse_http_requests_total{method="GET",route="${path}",status="200"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Headers but the ones that differ per response by nature. */
function stable(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => { if (!['date', 'x-request-id', 'keep-alive', 'connection'].includes(k)) out[k] = v; });
  return out;
}

/** GET with a Host header of our choosing (fetch does not let a caller set Host). */
function getWithHost(path: string, hostHeader: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, gh.issuer);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a discovery request for another host', () => {
  // runs first, before any discovery document is kept: the first request decides what is kept
  it('is answered for its requester alone and never served to others', async () => {
    const foreign = await getWithHost('/.well-known/openid-configuration', 'evil.example');
    expect(foreign.status).toBe(200);
    expect(JSON.parse(foreign.body).token_endpoint).toBe('http://evil.example/token'); // the provider's own answer
    for (let i = 0; i < 3; i++) {
      const doc = await (await fetch(`${gh.issuer}/.well-known/openid-configuration`)).json() as Record<string, string>;
      expect(doc.token_endpoint).toBe(`${gh.issuer}/token`);
      expect(doc.jwks_uri).toBe(`${gh.issuer}/jwks`);
    }
    // once the issuer's document is kept, another host gets that one too, not its own
    const later = JSON.parse((await getWithHost('/.well-known/openid-configuration', 'evil.example')).body) as Record<string, string>;
    expect(later.token_endpoint).toBe(`${gh.issuer}/token`);
  });
});

describe.each(['/.well-known/openid-configuration', '/jwks'])('GET %s', (path) => {
  it('answers later requests with the same bytes and headers, each with its own request id, log line and metrics', async () => {
    const before = await requestsCounted(path);
    const first = await fetch(`${gh.issuer}${path}`);
    const firstBody = await first.text();
    const again = await Promise.all([1, 2, 3].map(async () => {
      const res = await fetch(`${gh.issuer}${path}`, { headers: { 'x-request-id': `kept-${path.length}-${Math.random().toString(36).slice(2)}` } });
      return { res, body: await res.text() };
    }));
    expect(first.status).toBe(200);
    for (const { res, body } of again) {
      expect(res.status).toBe(200);
      expect(body).toBe(firstBody);
      expect(stable(res)).toEqual(stable(first));
      expect(res.headers.get('x-request-id')).toMatch(/^kept-/);
    }
    expect(new Set(again.map(({ res }) => res.headers.get('x-request-id'))).size).toBe(3);
    expect(stable(first)).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'none'"),
      'x-content-type-options': 'nosniff',
      'access-control-allow-origin': '*',
    });
    // the kept bytes are the document itself: discovery names this issuer, the JWKS has public keys
    const doc = JSON.parse(firstBody) as { issuer?: string; keys?: Array<{ kid?: string; d?: unknown }> };
    if (path === '/jwks') {
      expect(doc.keys!.length).toBeGreaterThan(0);
      for (const k of doc.keys!) { expect(k.kid).toEqual(expect.any(String)); expect(k.d).toBeUndefined(); }
    } else {
      expect(doc.issuer).toBe(gh.issuer);
    }
    expect(await requestsCounted(path)).toBe(before + 4);
    await new Promise((r) => setTimeout(r, 400)); // log lines leave in batches
    for (const { res } of again) expect(gh.log()).toContain(res.headers.get('x-request-id')!);
  });

  it('keeps the connection open: many kept answers over one socket (a load balancer or RP reuses it)', async () => {
    await fetch(`${gh.issuer}${path}`); // make sure the response is kept
    const { port } = new URL(gh.issuer);
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        // three requests written at once on one connection (pipelined), as a kept-alive client may
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`.repeat(3));
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => { data += chunk; if ((data.match(/HTTP\/1\.1 200/g) ?? []).length === 3) { socket.end(); resolve(data); } });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(5000, () => { socket.destroy(); resolve(data); });
    });
    expect((answers.match(/HTTP\/1\.1 200/g) ?? []).length).toBe(3);
    expect(answers).not.toMatch(/^connection: close/im);
  });

  it('still echoes a browser origin in CORS headers and answers HEAD and other methods as the provider does', async () => {
    const cors = await fetch(`${gh.issuer}${path}`, { headers: { origin: 'https://app.example.test' } });
    expect(cors.status).toBe(200);
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const head = await fetch(`${gh.issuer}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const post = await fetch(`${gh.issuer}${path}`, { method: 'POST' });
    expect(post.status).not.toBe(200);
    expect(post.status).toBeLessThan(500);
  });
});

describe('a key rotation', () => {
  it('shows in the JWKS the node serves, kept responses notwithstanding', async () => {
    const kids = async () => ((await (await fetch(`${gh.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = await kids();
    await kids(); // kept now
    const { rotated } = await gh.cliJson<{ rotated: string[] }>(['keys', 'rotate', '--json']);
    expect(rotated.length).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000;
    let now = await kids();
    while (!rotated.every((k) => now.includes(k)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await kids();
    }
    expect(now).toEqual(expect.arrayContaining([...rotated, ...before]));
  });
});
