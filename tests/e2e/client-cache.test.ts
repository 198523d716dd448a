// Clients are cached on every node (no SQL per token request), and a change made anywhere — here
// by the operator CLI, a separate process — reaches every node at once, long before the cache's
// TTL: a rotated secret stops working and a deleted client is gone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';

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
  const first = await startServer();
  nodes = [first, await startServer({ shareWith: first, env: { GATEHOUSE_ISSUER: first.issuer } })];
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
