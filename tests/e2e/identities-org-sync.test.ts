// Organisation sync through a real upstream sign-in: a second Gatehouse is the upstream OpenID
// provider, and its own workspace claims (`workspace_slug`, `workspace_role`, scope `workspace`) are
// what the rules read. openid-client is the app on the Gatehouse under test, asking for the
// `workspaces` claim: the first sign-in adds the synced memberships (and creates the workspaces the
// rules may create); after the upstream changes, the next sign-in moves them — the removed one leaves
// the tokens and stops being the active workspace — while a membership made by hand stays.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { discover, formAction, type Page } from '../../harness/http-agent.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { OriginAgent, onDatabase, registerProvider, startUpstreamGatehouse } from '../support/upstream.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const PASSWORD = 'an org sync pass phrase';
const EMAIL = 'carol@corp.test';
let gh: TestServer;
let up: TestServer;
let app: oidc.Configuration;

beforeAll(async () => {
  gh = await startServer();
  const callback = `${gh.issuer}/providers/corp/callback`;
  const upstream = await startUpstreamGatehouse(callback);
  up = upstream.server;
  // a client at the upstream that may ask for its workspace claims
  const client = await up.cliJson(['clients', 'create', '--name', 'Downstream with workspaces', '--redirect-uri', callback, '--scopes', 'openid email profile workspace']);
  await up.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD, '--verified']);
  await up.cliJson(['workspaces', 'create', '--slug', 'eng', '--name', 'Engineering', '--owner', EMAIL]);
  await up.cliJson(['workspaces', 'create', '--slug', 'ops', '--name', 'Operations', '--owner', EMAIL]);
  await onDatabase(up, async (k) => {
    const eng = await k('workspaces').where({ slug: 'eng' }).first();
    await k('users').where({ email: EMAIL }).update({ active_workspace_id: eng.id });
  });
  await registerProvider(gh, {
    name: 'corp', kind: 'oidc', display_name: 'Corp SSO', issuer: up.issuer, client_id: client.client_id, client_secret: client.client_secret,
    scopes: 'openid email profile workspace', allow_signup: true, trust_email_verified: true,
    org_sync: [
      { claim: 'workspace_slug', workspace: 'corp-{value}', role: 'member', create_workspace: true },
      { claim: 'workspace_role', value: 'owner', workspace: 'corp-leads', role: 'admin', create_workspace: true },
    ],
  });
  const c = await gh.cliJson(['clients', 'create', '--name', 'Team App', '--redirect-uri', REDIRECT, '--scopes', 'openid email profile workspace workspaces']);
  app = await discover({ issuer: gh.issuer, clientId: c.client_id, clientSecret: c.client_secret, redirectUri: REDIRECT });
}, 300_000);
afterAll(async () => { await gh?.destroy(); await up?.destroy(); });

/** The app's sign-in, through the "Continue with Corp SSO" button and the upstream's own pages, to
 * tokens; at the workspace picker (several workspaces, none active) it picks `choose`, after
 * recording which workspaces the picker offered in `offered`. */
async function signInThroughUpstream(choose: string, offered: string[] = []) {
  const agent = new OriginAgent();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(app, {
    redirect_uri: REDIRECT, scope: 'openid email workspace workspaces', state: 'st', nonce: 'n1',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  let page: Page = await agent.go(url.href, {}, REDIRECT);
  const href = /href="([^"]*upstream\/corp)"/.exec(page.html)?.[1]?.replaceAll('&#x2F;', '/');
  expect(href).toBeDefined();
  page = await agent.go(new URL(href!, page.url).href, {}, REDIRECT);
  for (let i = 0; i < 6 && !page.url.startsWith(REDIRECT); i++) {
    if (page.url.startsWith(up.issuer) && page.html.includes('autocomplete="current-password"')) page = await agent.submit(page, formAction(page.html, '/login'), { email: EMAIL, password: PASSWORD }, REDIRECT);
    else if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
    else if (page.html.includes('name="workspace_id"')) {
      const forms = page.html.split('<form').slice(1);
      offered.push(...forms.map((f) => /class="workspace-meta">([a-z0-9-]+) ·/.exec(f)?.[1]).filter((x): x is string => !!x));
      const form = forms.find((f) => f.includes(`class="workspace-meta">${choose} ·`));
      if (!form) break;
      const action = /action="([^"]+)"/.exec(form)![1]!.replaceAll('&#x2F;', '/');
      page = await agent.submit(page, action, { workspace_id: /name="workspace_id" value="([^"]+)"/.exec(form)![1]! }, REDIRECT);
    } else break;
  }
  if (!page.url.startsWith(REDIRECT)) throw new Error(`stopped at ${page.status} ${page.url}: ${page.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  const tokens = await oidc.authorizationCodeGrant(app, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n1' });
  return tokens.claims()!;
}

const memberships = () => onDatabase(gh, async (k) => Object.fromEntries(
  (await k('memberships as m').join('workspaces as w', 'w.id', 'm.workspace_id').join('users as u', 'u.id', 'm.user_id')
    .where('u.email', EMAIL).select('w.slug', 'm.role', 'm.managed_by')).map((r) => [r.slug, `${r.role}/${r.managed_by ?? 'hand'}`]),
));
const slugsIn = (claims: Record<string, unknown>) => (claims.workspaces as Array<{ slug: string }>).map((w) => w.slug).sort();

describe('organisation sync through a real upstream sign-in', () => {
  it('adds the synced memberships at the first sign-in, and moves them when the upstream changes; hand-made stays', async () => {
    const firstOffer: string[] = [];
    const first = await signInThroughUpstream('corp-eng', firstOffer);
    expect(firstOffer.sort()).toEqual(['corp-eng', 'corp-leads']); // synced before the picker asked
    expect(await memberships()).toEqual({ 'corp-eng': 'member/corp', 'corp-leads': 'admin/corp' });
    expect(slugsIn(first)).toEqual(['corp-eng', 'corp-leads']);
    expect(first.workspace_slug).toBe('corp-eng');
    const added = await onDatabase(gh, (k) => k('audit_events').where({ type: 'workspace.member_added', subject_id: first.sub }).select('data'));
    expect(added.map((e) => e.data.managed_by)).toEqual(['corp', 'corp']);

    // by hand, on this side: a workspace of its own (corp-eng stays the active one)
    await gh.cliJson(['workspaces', 'create', '--slug', 'handmade', '--name', 'Hand made', '--owner', EMAIL]);

    // upstream: carol now works in ops, as a plain member there
    await onDatabase(up, async (k) => {
      const ops = await k('workspaces').where({ slug: 'ops' }).first();
      const user = await k('users').where({ email: EMAIL }).first();
      await k('users').where({ id: user.id }).update({ active_workspace_id: ops.id });
      await k('memberships').where({ workspace_id: ops.id, user_id: user.id }).update({ role: 'member' });
    });
    const secondOffer: string[] = [];
    const second = await signInThroughUpstream('handmade', secondOffer);
    expect(second.sub).toBe(first.sub);
    expect(await memberships()).toEqual({ 'corp-ops': 'member/corp', handmade: 'owner/hand' });
    // the removed one was active: it is no longer, so the picker asks — without it — and no token names it
    expect(secondOffer.sort()).toEqual(['corp-ops', 'handmade']);
    expect(slugsIn(second)).toEqual(['corp-ops', 'handmade']);
    expect(second.workspace_slug).toBe('handmade');
    const removed = await onDatabase(gh, (k) => k('audit_events').where({ type: 'workspace.member_removed', subject_id: first.sub }).select('data'));
    expect(removed.map((e) => e.data.managed_by)).toEqual(['corp', 'corp']);
  }, 120_000);
});
