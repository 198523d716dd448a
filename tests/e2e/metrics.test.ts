// GET /metrics: Prometheus text behind GATEHOUSE_METRICS_TOKEN; requests by route pattern (never a
// raw id), tokens by grant, sign-in failures; and no SQL at all for client credentials and
// introspection once the client is loaded.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, formAction } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';
let gh: TestServer;
let client: { client_id: string; client_secret: string };

const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const post = (path: string, body: Record<string, string>) => fetch(`${gh.issuer}${path}`, {
  method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
});
const metrics = async () => (await fetch(`${gh.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  // no background key checks during the test: every SQL query counted is a request's
  gh = await startServer({ env: { GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN, GATEHOUSE_KEY_REFRESH_SECONDS: '3600' } });
  client = await gh.cliJson(['clients', 'create', '--name', 'Metrics', '--redirect-uri', REDIRECT,
    '--grant-types', 'authorization_code,refresh_token,client_credentials']);
  await gh.cliJson(['users', 'create', '--email', 'metrics@example.test', '--password', 'counting all the things']);
});
afterAll(async () => { await gh?.destroy(); });

describe('/metrics', () => {
  it('needs the bearer token when GATEHOUSE_METRICS_TOKEN is set', async () => {
    expect((await fetch(`${gh.issuer}/metrics`)).status).toBe(401);
    expect((await fetch(`${gh.issuer}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await fetch(`${gh.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('# TYPE gatehouse_http_request_duration_seconds histogram');
  });

  it('counts tokens by grant, requests by route pattern and sign-in failures', async () => {
    expect((await post('/token', { grant_type: 'client_credentials' })).status).toBe(200);
    const agent = new Agent();
    const auth = `${gh.issuer}/auth?${new URLSearchParams({
      client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    })}`;
    const page = await agent.go(auth);
    const uid = /\/interaction\/([^/]+)/.exec(page.url)![1]!;
    const failed = await agent.submit(page, formAction(page.html, '/login'), { email: 'metrics@example.test', password: 'not the password' });
    expect(failed.status).toBe(401);

    const text = await metrics();
    expect(value(text, 'gatehouse_tokens_issued_total{grant_type="client_credentials"}')).toBe(1);
    expect(value(text, 'gatehouse_sign_in_failures_total')).toBe(1);
    expect(value(text, 'gatehouse_http_requests_total{method="POST",route="/token",status="200"}')).toBe(1);
    expect(value(text, 'gatehouse_http_requests_total{method="GET",route="/interaction/:uid",status="200"}')).toBe(1);
    expect(value(text, 'gatehouse_http_requests_total{method="POST",route="/interaction/:uid/login",status="401"}')).toBe(1);
    expect(text).not.toContain(uid);
  });

  it('sends no SQL for client credentials and introspection once the client is loaded', async () => {
    const token = ((await (await post('/token', { grant_type: 'client_credentials' })).json()) as { access_token: string }).access_token;
    const before = value(await metrics(), 'gatehouse_db_queries_total');
    for (let i = 0; i < 10; i++) {
      expect((await post('/token', { grant_type: 'client_credentials' })).status).toBe(200);
      expect((await post('/token/introspection', { token })).status).toBe(200);
    }
    expect(value(await metrics(), 'gatehouse_db_queries_total')).toBe(before);
  });

  it('sends no SQL for refresh and userinfo once the account is loaded, and still sees changes at once', async () => {
    const { discover, signIn } = await import('../../harness/http-agent.ts');
    const cfg = await discover({ issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'metrics@example.test', password: 'counting all the things' });
    const userinfo = (at: string) => fetch(`${gh.issuer}/me`, { headers: { authorization: `Bearer ${at}` } });
    let refreshToken = tokens.refresh_token!;
    let accessToken = tokens.access_token;
    expect((await userinfo(accessToken)).status).toBe(200); // loads the account
    const before = value(await metrics(), 'gatehouse_db_queries_total');
    for (let i = 0; i < 5; i++) {
      const r = await (await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken })).json() as { refresh_token: string; access_token: string };
      refreshToken = r.refresh_token;
      accessToken = r.access_token;
      expect((await userinfo(accessToken)).status).toBe(200);
    }
    expect(value(await metrics(), 'gatehouse_db_queries_total')).toBe(before);
    // a change made elsewhere (here: straight into Postgres, as the operator CLI would) reaches the cache at once
    const pg = (await import('pg')).default;
    const db = new pg.Client({ connectionString: gh.env.DATABASE_URL });
    await db.connect();
    await db.query(`update users set name = 'Renamed Elsewhere' where email_normalized = 'metrics@example.test'`);
    await db.end();
    let name: string | undefined;
    for (let i = 0; i < 20 && name !== 'Renamed Elsewhere'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      name = ((await (await userinfo(accessToken)).json()) as { name?: string }).name;
    }
    expect(name).toBe('Renamed Elsewhere');
  });
});
