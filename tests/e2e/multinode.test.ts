// Three stateless nodes over one Postgres and one Redis behave as one: migrations run once when
// they start together, a sign-in on one node refreshes on another and is revoked on a third, and
// a key rotation reaches every node without a restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../support/agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'many nodes one truth';
const KEY_REFRESH_SECONDS = 1;
let nodes: TestServer[] = [];
let client: { client_id: string; client_secret: string };

const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const form = (node: TestServer, path: string, body: Record<string, string>) => fetch(`${node.issuer}${path}`, {
  method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
});

beforeAll(async () => {
  const env = { GATEHOUSE_KEY_REFRESH_SECONDS: String(KEY_REFRESH_SECONDS) };
  const first = await startServer({ noWait: true, env });
  // the same issuer on every node, as behind a load balancer
  const shared = { ...env, GATEHOUSE_ISSUER: first.issuer };
  nodes = [first, await startServer({ shareWith: first, noWait: true, env: shared }), await startServer({ shareWith: first, noWait: true, env: shared })];
  await Promise.all(nodes.map((n) => n.ready()));
  client = await first.cliJson(['clients', 'create', '--name', 'Multi', '--redirect-uri', REDIRECT]);
  await first.cliJson(['users', 'create', '--email', 'multi@example.test', '--password', PASSWORD]);
});
afterAll(async () => {
  for (const n of nodes.slice(1).reverse()) await n.stop();
  await nodes[0]?.destroy();
});

describe('three nodes', () => {
  it('ran the migrations exactly once', async () => {
    const db = new pg.Client({ connectionString: nodes[0]!.env.DATABASE_URL });
    await db.connect();
    const { rows } = await db.query('select name from knex_migrations');
    await db.end();
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('signs in on node 1, refreshes on node 2, revokes on node 3', async () => {
    const issuer = nodes[0]!.issuer;
    const cfg = await discover({ issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'multi@example.test', password: PASSWORD });
    const refreshed = await (await form(nodes[1]!, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).json() as Record<string, string>;
    expect(refreshed.access_token).toBeTruthy();
    expect((await form(nodes[2]!, '/token/revocation', { token: refreshed.refresh_token!, token_type_hint: 'refresh_token' })).status).toBe(200);
    for (const n of nodes) {
      const intro = await (await form(n, '/token/introspection', { token: refreshed.refresh_token! })).json() as { active: boolean };
      expect(intro.active).toBe(false);
    }
    // revoking a refresh token revokes its grant: the access token dies on every node too
    for (const n of nodes) {
      const userinfo = await fetch(`${n.issuer}/me`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      expect(userinfo.status).toBe(401);
    }
  });

  it('a key rotated on one node signs on every node within seconds', async () => {
    const rotated = await nodes[0]!.cliJson(['keys', 'rotate', '--alg', 'RS256']) as { rotated: string[] };
    const kid = rotated.rotated[0]!;
    await new Promise((r) => setTimeout(r, (KEY_REFRESH_SECONDS + 1.5) * 1000));
    for (const n of nodes) {
      const jwks = await (await fetch(`${n.issuer}/jwks`)).json() as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    }
    // a fresh ID token from node 3 carries the new kid
    const issuer = nodes[0]!.issuer;
    const cfg = await discover({ issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    const { tokens } = await signIn(cfg, { issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'multi@example.test', password: PASSWORD });
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(kid);
  });
});
