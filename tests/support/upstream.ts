// Upstream identity providers for the federation tests: a second Gatehouse as the upstream OpenID
// provider, a browser-like agent that keeps cookies per origin (two servers on one host must not
// share their session cookies), and registering a provider on the Gatehouse under test through the
// registry's own service over its database.
import knexFactory from 'knex';
import { Agent, csrfOf, type Page } from '../../harness/http-agent.ts';
import { createSecretBox } from '../../src/security/secretbox.ts';
import { createTransactions } from '../../src/storage/transactions.ts';
import { createProviderRepo } from '../../src/upstream/provider.repo.ts';
import { createIdentityRepo } from '../../src/upstream/identity.repo.ts';
import { createProviderService, type ProviderInput } from '../../src/upstream/provider.service.ts';
import { startServer, type TestServer } from './server.ts';

/** A cookie jar per origin (host and port), redirects followed by hand, as a browser would. */
export class OriginAgent {
  private readonly jars = new Map<string, Agent>();
  jar(url: string): Agent {
    const origin = new URL(url).origin;
    let a = this.jars.get(origin);
    if (!a) { a = new Agent(); this.jars.set(origin, a); }
    return a;
  }
  async go(url: string, init: RequestInit = {}, stopAt?: string): Promise<Page> {
    let current = url;
    let res = await this.jar(current).request(current, init);
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 15; hops++) {
      current = new URL(res.headers.get('location')!, current).toString();
      if (stopAt && current.startsWith(stopAt)) return { status: res.status, url: current, html: '', headers: res.headers };
      res = await this.jar(current).request(current);
    }
    return { status: res.status, url: current, html: await res.text(), headers: res.headers };
  }
  submit(page: Page, action: string, fields: Record<string, string>, stopAt?: string): Promise<Page> {
    return this.go(new URL(action, page.url).toString(), {
      method: 'POST', body: new URLSearchParams({ _csrf: csrfOf(page.html), ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }, stopAt);
  }
}

/** A second Gatehouse as the upstream OpenID provider, with a client whose redirect URI is `callback`. */
export async function startUpstreamGatehouse(callback: string): Promise<{ server: TestServer; clientId: string; clientSecret: string }> {
  // another host name than the Gatehouse under test (127.0.0.1): cookies are not kept apart by port
  const server = await startServer({ host: 'localhost' });
  const c = await server.cliJson(['clients', 'create', '--name', 'Downstream Gatehouse', '--redirect-uri', callback, '--scopes', 'openid email profile']);
  return { server, clientId: c.client_id, clientSecret: c.client_secret };
}

/** Registers (or replaces) a provider on `gh` with the registry's service, over its database. */
export async function registerProvider(gh: TestServer, input: ProviderInput): Promise<void> {
  const knex = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL, pool: { min: 0, max: 1 } });
  try {
    const providers = createProviderService({
      repo: createProviderRepo(knex), identities: createIdentityRepo(knex), transactions: createTransactions(knex),
      box: createSecretBox(gh.env.GATEHOUSE_SECRET!, 'gatehouse data encryption'),
      audit: { record: async () => {} } as never, issuer: gh.issuer, env: 'test',
    });
    if (await providers.get(input.name).catch(() => undefined)) await providers.remove(input.name, { force: true }, {} as never);
    await providers.create(input, {} as never);
  } finally {
    await knex.destroy();
  }
}

/** Runs a query on `gh`'s database. */
export async function onDatabase<T>(gh: TestServer, work: (knex: knexFactory.Knex) => Promise<T>): Promise<T> {
  const knex = knexFactory({ client: 'pg', connection: gh.env.DATABASE_URL, pool: { min: 0, max: 1 } });
  try { return await work(knex); } finally { await knex.destroy(); }
}
