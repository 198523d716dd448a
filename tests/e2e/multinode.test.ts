// Three stateless nodes over one Postgres and one Redis behave as one: migrations run once when
// they start together, a sign-in on one node refreshes on another and is revoked on a third, and
// key rotation reaches every node without a restart: a new key is published everywhere before any
// node signs with it, the switch happens on every node by itself, and a revoked key leaves every JWKS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'many nodes one truth';
const KEY_REFRESH_SECONDS = 1;
const ACTIVATION_DELAY_SECONDS = 20; // long enough to look at every node before the switch, on a loaded machine too
/** a node notices a key change within one refresh interval; the rest is a loaded test machine */
const PROPAGATION_MS = (KEY_REFRESH_SECONDS + 4) * 1000;
const API = 'https://api.multi.example.test';
let nodes: TestServer[] = [];
let client: { client_id: string; client_secret: string };

const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const form = (node: TestServer, path: string, body: Record<string, string>) => fetch(`${node.issuer}${path}`, {
  method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, what: string, within = PROPAGATION_MS): Promise<void> {
  const until = Date.now() + within;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${within} ms: ${what}`);
    await sleep(100);
  }
}

const jwksKids = async (n: TestServer) => ((await (await fetch(`${n.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
const keyList = () => nodes[0]!.cliJson<Array<{ kid: string; alg: string; status: string; activatesAt: string; expiresAt: string | null }>>(['keys', 'list']);
const rsSigner = async () => (await keyList()).find((k) => k.alg === 'RS256' && k.status === 'active')!.kid;

/** The refresh token a relying party holds; each refresh rotates it. */
let refreshToken: string;
/** The kids a node signs with now: its ID token's and its JWT access token's (both RS256), from one refresh there. */
async function signedBy(n: TestServer): Promise<{ idToken: string; accessToken: string }> {
  const r = await (await form(n, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, resource: API })).json() as Record<string, string>;
  if (!r.refresh_token) throw new Error(`refresh failed on ${n.issuer}: ${JSON.stringify(r)}`);
  refreshToken = r.refresh_token;
  return { idToken: decodeProtectedHeader(r.id_token!).kid!, accessToken: decodeProtectedHeader(r.access_token!).kid! };
}

beforeAll(async () => {
  const env = {
    GATEHOUSE_KEY_REFRESH_SECONDS: String(KEY_REFRESH_SECONDS), GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS: String(ACTIVATION_DELAY_SECONDS),
    GATEHOUSE_RESOURCES: API,
  };
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

  it('a rotation publishes the new key on every node at once; the old key signs until the activation delay has passed', async () => {
    const issuer = nodes[0]!.issuer;
    const cfg = await discover({ issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT });
    refreshToken = (await signIn(cfg, { issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, email: 'multi@example.test', password: PASSWORD, extra: { resource: API } })).tokens.refresh_token!;
    const oldKid = await rsSigner();

    const started = Date.now();
    const rotated = await nodes[0]!.cliJson(['keys', 'rotate', '--alg', 'RS256']) as { rotated: string[]; activatesAt: string };
    const kid = rotated.rotated[0]!;
    const activatesAt = new Date(rotated.activatesAt).getTime();
    expect(activatesAt).toBeGreaterThanOrEqual(started + ACTIVATION_DELAY_SECONDS * 1000); // the configured default
    expect((await keyList()).find((k) => k.kid === kid)).toMatchObject({ status: 'pending', activatesAt: rotated.activatesAt });

    for (const n of nodes) await eventually(async () => (await jwksKids(n)).includes(kid), `${n.issuer} publishes ${kid}`);
    for (const n of nodes) expect(await signedBy(n)).toEqual({ idToken: oldKid, accessToken: oldKid });
    expect(Date.now()).toBeLessThan(activatesAt); // the checks above ran before the switch

    // no operator action, no restart: every node switches within a refresh interval of activation
    await sleep(activatesAt - Date.now());
    for (const n of nodes) {
      await eventually(async () => (await signedBy(n)).idToken === kid, `${n.issuer} signs ID tokens with ${kid}`, PROPAGATION_MS);
      expect(await signedBy(n)).toEqual({ idToken: kid, accessToken: kid });
      expect(await jwksKids(n)).toContain(oldKid); // its tokens are still valid
    }
    expect((await keyList()).filter((k) => [kid, oldKid].includes(k.kid)).map((k) => [k.kid, k.status]))
      .toEqual(expect.arrayContaining([[kid, 'active'], [oldKid, 'retired']]));
  });

  it('rotate --now signs with the new key on every node at once', async () => {
    const oldKid = await rsSigner();
    const rotated = await nodes[0]!.cliJson(['keys', 'rotate', '--alg', 'RS256', '--now']) as { rotated: string[]; activatesAt: string };
    const kid = rotated.rotated[0]!;
    expect(new Date(rotated.activatesAt).getTime()).toBeLessThanOrEqual(Date.now());
    for (const n of nodes) {
      await eventually(async () => (await signedBy(n)).accessToken === kid, `${n.issuer} signs with ${kid}`);
      expect(await jwksKids(n)).toEqual(expect.arrayContaining([kid, oldKid]));
    }
  });

  it('revoke withdraws a key from every node\'s JWKS; the key that signs cannot be revoked', async () => {
    const signer = await rsSigner();
    const retired = (await keyList()).filter((k) => k.alg === 'RS256' && k.status === 'retired').map((k) => k.kid);
    expect(retired.length).toBeGreaterThan(0);
    const revoked = await nodes[0]!.cliJson(['keys', 'revoke', retired[0]!]);
    expect(revoked).toMatchObject({ revoked: retired[0], alg: 'RS256', was: 'retired' });
    for (const n of nodes) await eventually(async () => !(await jwksKids(n)).includes(retired[0]!), `${n.issuer} drops ${retired[0]}`);

    const refused = await nodes[0]!.cli(['keys', 'revoke', signer]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/without a signing key.*--now/);
    for (const n of nodes) {
      expect(await jwksKids(n)).toContain(signer);
      expect((await signedBy(n)).idToken).toBe(signer);
    }
  });
});
