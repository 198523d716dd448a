// Refresh-token rotation against the real servers, where a rotation can be slow or refused half-way
// (src/oidc/adapters/rotation.ts):
// - a rotation slower than the settle window (a table lock holds its claims query) is overtaken by a
//   second redemption of the same refresh token; the slow one must not answer 200 too, or the one
//   refresh token would have produced two live token families;
// - a refresh refused with a 4xx after the presented token was consumed (invalid_target) leaves that
//   token usable at once, and leaves no undelivered refresh token stored.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../support/server.ts';
import { discover, signIn } from '../../harness/http-agent.ts';
import { requireReal } from '../support/env.ts';
import { ROTATION_SETTLE_MS } from '../../src/oidc/adapters/redemption.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const EMAIL = 'rotation@example.test';
const PASSWORD = 'turn and turn about';
/** A resource server the deployment knows, but that the sign-in below never asked for. */
const API = 'https://api.example.com';

let gh: TestServer;
let client: { client_id: string; client_secret: string };
let redis: Redis;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const basic = () => `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const refresh = (refreshToken: string, extra: Record<string, string> = {}) => fetch(`${gh.issuer}/token`, {
  method: 'POST', headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }), signal: AbortSignal.timeout(30_000),
});

async function signInTokens(scope: string) {
  const rp = { issuer: gh.issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT };
  const { tokens } = await signIn(await discover(rp), { ...rp, email: EMAIL, password: PASSWORD, scope });
  return tokens;
}

/** The refresh tokens stored under the grant of this (opaque) refresh token, read from Redis as the adapter keeps them. */
async function storedRefreshTokens(refreshToken: string): Promise<number> {
  const base = `${gh.env.GATEHOUSE_REDIS_PREFIX}oidc:`;
  const payload = await redis.hget(`${base}RefreshToken:${refreshToken}`, 'payload');
  expect(payload).toBeTruthy();
  const { grantId } = JSON.parse(payload!) as { grantId: string };
  const members = (await redis.zrange(`${base}byGrant:${grantId}`, 0, '-1')).filter((m) => m.startsWith('RefreshToken:'));
  const live = await Promise.all(members.map((m) => redis.exists(base + m)));
  return live.filter((n) => n === 1).length;
}

beforeAll(async () => {
  const real = requireReal();
  redis = new Redis(real.redisUrl);
  // no account cache: every refresh reads the memberships table (the workspace claims), so a lock
  // on it holds a refresh after its consume
  gh = await startServer({ env: { GATEHOUSE_ACCOUNT_CACHE_SECONDS: '0', GATEHOUSE_RESOURCES: API } });
  client = await gh.cliJson(['clients', 'create', '--name', 'Rotation', '--redirect-uri', REDIRECT, '--grant-types', 'authorization_code,refresh_token', '--scopes', 'openid offline_access workspace']);
  await gh.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD]);
});
afterAll(async () => {
  await gh?.destroy();
  await redis?.quit();
});

describe('a rotation slower than the settle window, overtaken by a second redemption', () => {
  it('answers 200 at most once: one refresh token never yields two live token families', async () => {
    const tokens = await signInTokens('openid offline_access workspace');
    const original = tokens.refresh_token!;
    const db = new pg.Client({ connectionString: gh.env.DATABASE_URL });
    await db.connect();
    let a: Promise<Response>;
    let b: Promise<Response>;
    try {
      // A consumes the refresh token, saves its new one, then waits on the lock (its access token's
      // workspace claims); B, after A's pending consumption has run out, takes it over and waits too
      await db.query('BEGIN');
      await db.query('LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE');
      a = refresh(original);
      await sleep(ROTATION_SETTLE_MS + 1500);
      b = refresh(original);
      await sleep(1500);
    } finally {
      await db.query('COMMIT').catch(() => {});
      await db.end();
    }
    const answers = await Promise.all([a!, b!]);
    const statuses = answers.map((r) => r.status);
    // B took A's rotation over and delivers; A, whose pending consumption is B's now, must not
    expect(statuses).toEqual([503, 200]);
    expect(answers[0]!.headers.get('retry-after')).toBeTruthy();
    expect(await answers[0]!.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const delivered = await answers[1]!.json() as { refresh_token: string };

    // exactly one family: B's refresh token rotates; A's never reached anyone and was removed
    expect(await storedRefreshTokens(delivered.refresh_token)).toBe(2); // the original (spent) and B's
    const next = await refresh(delivered.refresh_token);
    expect(next.status).toBe(200);
    // the original presented once more (A's client retrying) is a replay of a settled rotation
    const replay = await refresh(original);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
  }, 60_000);
});

describe('a refresh refused with a 4xx after its token was consumed', () => {
  it('leaves the refresh token usable at once and stores no undelivered refresh token', async () => {
    const tokens = await signInTokens('openid offline_access');
    const original = tokens.refresh_token!;
    expect(await storedRefreshTokens(original)).toBe(1);
    for (let i = 0; i < 3; i++) {
      // a resource the grant never had: invalid_target, thrown after the consume and the new token's save
      const refused = await refresh(original, { resource: API });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'invalid_target' });
    }
    expect(await storedRefreshTokens(original)).toBe(1);
    // the client's corrected request, right away: not "503 try again", not a replay
    const retried = await refresh(original);
    expect(retried.status).toBe(200);
    const rotated = await retried.json() as { refresh_token: string };
    expect(await storedRefreshTokens(rotated.refresh_token)).toBe(2); // the original (spent) and its successor
    expect((await refresh(rotated.refresh_token)).status).toBe(200);
  }, 60_000);
});
