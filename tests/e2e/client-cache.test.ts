// Clients, and the memberships behind workspace claims, are cached on every node (no SQL per token
// request), and a change made anywhere — here by the operator CLI, a separate process, by the API
// on the other node, or straight in Postgres — reaches every node at once, long before the cache's
// TTL: a rotated secret stops working, a deleted client is gone, and the next refresh or userinfo
// names the workspace as it is now.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

/** Far below the cache's 30 s TTL: the change message did it, not expiry. */
const PROPAGATION_MS = 3000;
let nodes: TestServer[] = [];

const token = (node: TestServer, clientId: string, secret: string) => fetch(`${node.issuer}/token`, {
  method: 'POST',
  headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'client_credentials' }),
});

async function eventually(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > PROPAGATION_MS) throw new Error(`not within ${PROPAGATION_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

beforeAll(async () => {
  // no background key checks: every SQL query counted is a request's
  const env = { GATEHOUSE_KEY_REFRESH_SECONDS: '3600' };
  const first = await startServer({ env });
  nodes = [first, await startServer({ shareWith: first, env: { ...env, GATEHOUSE_ISSUER: first.issuer } })];
});
afterAll(async () => {
  await nodes[1]?.stop();
  await nodes[0]?.destroy();
});

describe('client cache', () => {
  it('drops a client on every node when the CLI rotates its secret or deletes it', async () => {
    const c = await nodes[0]!.cliJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'Cached', '--grant-types', 'client_credentials']);
    for (const n of nodes) expect((await token(n, c.client_id, c.client_secret)).status).toBe(200); // now cached

    const rotated = await nodes[0]!.cliJson<{ client_secret: string }>(['clients', 'rotate-secret', c.client_id]);
    for (const n of nodes) {
      await eventually(async () => (await token(n, c.client_id, c.client_secret)).status === 401);
      expect((await token(n, c.client_id, rotated.client_secret)).status).toBe(200);
    }

    await nodes[0]!.cliJson(['clients', 'delete', c.client_id]);
    for (const n of nodes) await eventually(async () => (await token(n, c.client_id, rotated.client_secret)).status === 401);
  });
});

describe('workspace claims cache', () => {
  const REDIRECT = 'http://127.0.0.1:7999/cb';
  const PASSWORD = 'cached claims pass phrase';
  const SCOPE = 'openid offline_access workspace workspaces';
  interface Claims { workspace_id?: string; workspace_slug?: string; workspace_name?: string; workspace_role?: string; workspaces?: Array<{ slug: string; name: string; role: string }> }
  let app: { client_id: string; client_secret: string };
  let refreshToken: string;
  let accessToken: string;

  const basic = () => `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
  /** Refreshes on the node (rotating the tokens held); the ID token's claims. */
  async function refreshOn(node: TestServer): Promise<Claims> {
    const res = await fetch(`${node.issuer}/token`, {
      method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    const body = await res.json() as { refresh_token?: string; access_token: string; id_token: string };
    if (!body.refresh_token) throw new Error(`refresh failed on ${node.issuer}: ${JSON.stringify(body)}`);
    refreshToken = body.refresh_token;
    accessToken = body.access_token;
    return decodeJwt(body.id_token) as Claims;
  }
  const userinfoOn = async (node: TestServer) => (await (await fetch(`${node.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as Claims;
  /** What the workspace claims say, comparable across the ID token and userinfo. */
  const named = (c: Claims) => ({ slug: c.workspace_slug, name: c.workspace_name, role: c.workspace_role, all: c.workspaces?.map((w) => `${w.slug}:${w.name}:${w.role}`) });
  async function queries(node: TestServer): Promise<number> {
    const line = (await (await fetch(`${node.issuer}/metrics`)).text()).split('\n').find((l) => l.startsWith('gatehouse_db_queries_total '));
    return Number(line?.split(' ')[1]);
  }
  /** Both nodes, refresh then userinfo, until both name `expected` (the change reached the node). */
  async function everywhere(expected: ReturnType<typeof named>): Promise<void> {
    for (const n of nodes) {
      await eventually(async () => JSON.stringify(named(await refreshOn(n))) === JSON.stringify(expected));
      expect(named(await userinfoOn(n))).toEqual(expected);
      expect(named(await refreshOn(n))).toEqual(expected); // and it stays so
    }
  }
  async function sql(text: string, values: unknown[]): Promise<void> {
    const db = new pg.Client({ connectionString: nodes[0]!.env.DATABASE_URL });
    await db.connect();
    try { await db.query(text, values); } finally { await db.end(); }
  }

  it('refresh and userinfo send no SQL once warm; a switch, a removal, a role change, a rename and a deletion made anywhere show on both nodes', async () => {
    const [a] = nodes as [TestServer, TestServer];
    const suffix = Date.now().toString(36);
    const boss = `boss-${suffix}@example.test`;
    const user = `member-${suffix}@example.test`;
    for (const email of [boss, user]) await a.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--verified']);
    const one = await a.cliJson<{ id: string; slug: string }>(['workspaces', 'create', '--slug', `one-${suffix}`, '--name', 'One', '--owner', boss]);
    const two = await a.cliJson<{ id: string; slug: string }>(['workspaces', 'create', '--slug', `two-${suffix}`, '--name', 'Two', '--owner', boss]);
    await a.cliJson(['workspaces', 'add-member', '--workspace', one.slug, '--email', user, '--role', 'admin']);
    await a.cliJson(['workspaces', 'add-member', '--workspace', two.slug, '--email', user, '--role', 'member']);
    app = await a.cliJson(['clients', 'create', '--name', 'Cached Claims', '--redirect-uri', REDIRECT, '--grant-types', 'authorization_code,refresh_token', '--scopes', SCOPE]);
    const rp = { issuer: a.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: REDIRECT };
    const { tokens } = await signIn(await discover(rp), { ...rp, email: user, password: PASSWORD, scope: SCOPE, extra: { workspace: one.slug } });
    refreshToken = tokens.refresh_token!;
    accessToken = tokens.access_token;
    const both = [`${one.slug}:One:admin`, `${two.slug}:Two:member`];

    for (const n of nodes) { await refreshOn(n); await userinfoOn(n); } // warm: each node loads account and memberships once
    for (const n of nodes) {
      const before = await queries(n);
      for (let i = 0; i < 3; i++) {
        expect(named(await refreshOn(n))).toEqual({ slug: one.slug, name: 'One', role: 'admin', all: both });
        expect(named(await userinfoOn(n))).toEqual({ slug: one.slug, name: 'One', role: 'admin', all: both });
      }
      expect(await queries(n)).toBe(before);
    }

    // (a) a switch through the API on node a: node a reads its own change at once, node b hears of it
    expect((await fetch(`${a.issuer}/api/me/active-workspace`, {
      method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ workspace_id: two.slug }),
    })).status).toBe(200);
    expect(named(await refreshOn(a))).toMatchObject({ slug: two.slug, role: 'member' });
    await everywhere({ slug: two.slug, name: 'Two', role: 'member', all: both });

    // (b) removed from the active workspace by the operator CLI: the next one, and two is gone from the list
    await a.cliJson(['workspaces', 'remove-member', '--workspace', two.slug, '--email', user]);
    await everywhere({ slug: one.slug, name: 'One', role: 'admin', all: [`${one.slug}:One:admin`] });
    // a role change touches only the membership (the user's row stays as it is)
    await a.cliJson(['workspaces', 'add-member', '--workspace', one.slug, '--email', user, '--role', 'member']);
    await everywhere({ slug: one.slug, name: 'One', role: 'member', all: [`${one.slug}:One:member`] });

    // (c) renamed, slug and name, straight in Postgres
    await sql('update workspaces set slug = $1, name = $2 where id = $3', [`uno-${suffix}`, 'Uno', one.id]);
    await everywhere({ slug: `uno-${suffix}`, name: 'Uno', role: 'member', all: [`uno-${suffix}:Uno:member`] });

    // (d) deleted: no workspace claims at all
    await sql('delete from workspaces where id = $1', [one.id]);
    await everywhere({ slug: undefined, name: undefined, role: undefined, all: [] });
  });
});
