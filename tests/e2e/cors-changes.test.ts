// The account API's CORS origins follow client changes made anywhere (here: the operator CLI, a
// separate process writing Postgres) at once, through the client change feed, not after a 30 s cache.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';

/** Far under the 30 s the origins were once cached for: the change must arrive by NOTIFY. */
const NOTICE_MS = 5000;
const A = 'https://a.cors.example.test';
const B = 'https://b.cors.example.test';

let gh: TestServer;
beforeAll(async () => { gh = await startServer(); });
afterAll(async () => { await gh?.destroy(); });

const preflight = async (origin: string) => (await fetch(`${gh.issuer}/api/me`, {
  method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' },
})).headers.get('access-control-allow-origin');

async function until(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > NOTICE_MS) throw new Error(`not seen within ${NOTICE_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

describe('CORS origins on a running node', () => {
  it('allow a new client\'s origin and drop a deleted client\'s, within seconds', async () => {
    const a = await gh.cliJson(['clients', 'create', '--name', 'App A', '--redirect-uri', `${A}/cb`, '--json']);
    await until(async () => (await preflight(A)) === A);
    expect(await preflight(B)).toBeNull(); // the node now holds a set without B

    await gh.cliJson(['clients', 'create', '--name', 'App B', '--redirect-uri', `${B}/cb`, '--json']);
    await until(async () => (await preflight(B)) === B);

    await gh.cli(['clients', 'delete', a.client_id]);
    await until(async () => (await preflight(A)) === null);
    expect(await preflight(B)).toBe(B);
  });
});
