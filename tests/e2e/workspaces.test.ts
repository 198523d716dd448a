// Workspaces end to end, with openid-client as the relying party against a real server on real
// Postgres and Redis: workspace= at sign-in, the claims in every token, switching and refreshing,
// removal, the workspace API's authorisation, invitations through the dev outbox, the operator CLI,
// and the example resource server accepting and refusing tokens by role.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../../harness/http-agent.ts';
import { messagesTo } from '../support/outbox.ts';
import { createResourceServer } from '../../examples/resource-server/server.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const API = 'https://api.example.test';
const OTHER_API = 'https://other.example.test';
const PASSWORD = 'workspace pass phrase 2026';
// workspace:manage: the API's changes (creating, renaming, deleting, members, invitations) need it
const SCOPES = 'openid profile email offline_access workspace workspaces workspace:manage';
const NIL_UUID = '00000000-0000-4000-8000-000000000000';

let gh: TestServer;
let web: { client_id: string; client_secret: string };
let config: oidc.Configuration;
const ws: Record<'acme' | 'beta', { id: string; slug: string }> = {} as never;

let seq = 0;
const address = (who: string) => `${who}-${Date.now().toString(36)}${seq++}@example.test`;
const rp = () => ({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });

async function user(who: string): Promise<string> {
  const email = address(who);
  await gh.cliJson(['users', 'create', '--email', email, '--password', PASSWORD, '--verified']);
  return email;
}
const addMember = (workspace: string, email: string, role: string) => gh.cliJson(['workspaces', 'add-member', '--workspace', workspace, '--email', email, '--role', role]);

function login(email: string, opts: { scope?: string; workspace?: string; resource?: string; agent?: Agent; pickWorkspace?: string } = {}) {
  const extra: Record<string, string> = {};
  if (opts.workspace) extra.workspace = opts.workspace;
  if (opts.resource) extra.resource = opts.resource;
  return signIn(config, { ...rp(), email, password: PASSWORD, scope: opts.scope ?? SCOPES, extra, agent: opts.agent, pickWorkspace: opts.pickWorkspace });
}
const refresh = (rt: string, resource?: string) => oidc.refreshTokenGrant(config, rt, resource ? { resource } : undefined);

const call = (path: string, token: string | undefined, init: RequestInit = {}) => fetch(`${gh.issuer}${path}`, {
  ...init,
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
});
const json = async (res: Response) => ({ status: res.status, body: await res.json() as any });
const post = (path: string, token: string | undefined, body: unknown) => call(path, token, { method: 'POST', body: JSON.stringify(body) }).then(json);
const patch = (path: string, token: string | undefined, body: unknown) => call(path, token, { method: 'PATCH', body: JSON.stringify(body) }).then(json);
const get = (path: string, token: string | undefined) => call(path, token).then(json);
const del = (path: string, token: string | undefined) => call(path, token, { method: 'DELETE' }).then(json);

/** The claims of the workspace contract in a set of claims. */
const workspaceOf = (claims: Record<string, unknown> | undefined) => ({
  id: claims?.workspace_id, slug: claims?.workspace_slug, name: claims?.workspace_name, role: claims?.workspace_role,
});

/** Runs an authorization request to its end; returns the callback URL (code or error). */
async function authorize(email: string | undefined, extra: Record<string, string>, agent = new Agent()): Promise<URL> {
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid workspace', state: 'st', ...extra,
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  let page = await agent.go(url.toString(), {}, REDIRECT);
  if (email && page.html.includes('current-password')) page = await agent.submit(page, formAction(page.html, '/login'), { email, password: PASSWORD }, REDIRECT);
  if (page.html.includes('/confirm')) page = await agent.submit(page, formAction(page.html, '/confirm'), {}, REDIRECT);
  if (!page.url.startsWith(REDIRECT)) throw new Error(`did not return to the app: ${page.status} ${page.url}\n${page.html.slice(0, 800)}`);
  return new URL(page.url);
}

let owner: string;
let ownerToken: string;

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_RESOURCES: `${API},${OTHER_API}` } });
  web = await gh.cliJson(['clients', 'create', '--name', 'Team App', '--redirect-uri', REDIRECT,
    '--grant-types', 'authorization_code,refresh_token,client_credentials', '--scopes', SCOPES]);
  config = await discover(rp());
  owner = await user('owner');
  ws.acme = await gh.cliJson(['workspaces', 'create', '--slug', 'acme', '--name', 'Acme', '--owner', owner]);
  ws.beta = await gh.cliJson(['workspaces', 'create', '--slug', 'beta', '--name', 'Beta Corp', '--owner', owner]);
  ownerToken = (await login(owner, { workspace: 'acme' })).tokens.access_token;
});
afterAll(async () => {
  const failures = gh?.log().split('\n').filter((l) => /"level":(50|60)/.test(l)) ?? [];
  if (failures.length) console.warn(`server errors:\n${failures.join('\n')}`);
  await gh?.destroy();
});

describe('operator CLI', () => {
  it('creates workspaces, adds and removes members, lists as JSON', async () => {
    expect(ws.acme).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), slug: 'acme', name: 'Acme', role: 'owner' });
    const member = await user('cli');
    expect(await addMember('acme', member, 'admin')).toMatchObject({ email: member, role: 'admin' });
    expect(await addMember(ws.acme.id, member, 'member')).toMatchObject({ role: 'member' }); // by id; changes the role
    const list = await gh.cliJson(['workspaces', 'list']);
    expect(list.find((w: any) => w.slug === 'acme')).toMatchObject({ id: ws.acme.id, name: 'Acme', owners: [owner], members: expect.any(Number) });
    expect(await gh.cliJson(['workspaces', 'remove-member', '--workspace', 'acme', '--email', member])).toMatchObject({ workspace: ws.acme.id });
    const human = await gh.cli(['workspaces', 'list']);
    expect(human.stdout).toMatch(/SLUG\s+NAME/);
  });

  it('refuses duplicate and malformed slugs, unknown users and workspaces, and the last owner, with one clear sentence', async () => {
    const cases: Array<[string[], RegExp, number?]> = [
      [['workspaces', 'create', '--slug', 'acme', '--name', 'Again', '--owner', owner], /slug "acme" is taken/],
      [['workspaces', 'create', '--slug', 'Not A Slug', '--name', 'X', '--owner', owner], /slug: a slug is 2–63 lower-case/],
      [['workspaces', 'create', '--slug', 'fine-slug', '--name', 'X', '--owner', 'nobody@example.test'], /No user "nobody@example.test"/, 4],
      [['workspaces', 'add-member', '--workspace', 'no-such', '--email', owner], /No workspace "no-such"/, 4],
      [['workspaces', 'add-member', '--workspace', 'acme', '--email', owner, '--role', 'king'], /Allowed choices are owner, admin, member/],
      [['workspaces', 'remove-member', '--workspace', 'acme', '--email', owner], /last owner of "acme" cannot leave/],
    ];
    for (const [args, message, code] of cases) {
      const r = await gh.cli(args);
      expect(r.code).not.toBe(0);
      if (code) expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await gh.cliJson(['workspaces', 'list'])).filter((w: any) => w.slug === 'fine-slug')).toEqual([]);
  });
});

describe('signing in with workspace=', () => {
  let ada: string;
  beforeAll(async () => {
    ada = await user('ada');
    await addMember('acme', ada, 'admin');
    await addMember('beta', ada, 'member');
  });

  it('puts the workspace in the ID token, userinfo, introspection and the JWT access token', async () => {
    const { tokens } = await login(ada, { workspace: 'acme' });
    const expected = { id: ws.acme.id, slug: 'acme', name: 'Acme', role: 'admin' };
    const claims = tokens.claims()!;
    expect(workspaceOf(claims)).toEqual(expected);
    expect(claims.workspaces).toEqual([
      { id: ws.acme.id, slug: 'acme', name: 'Acme', role: 'admin' },
      { id: ws.beta.id, slug: 'beta', name: 'Beta Corp', role: 'member' },
    ]);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(workspaceOf(info)).toEqual(expected);
    expect(info.workspaces).toHaveLength(2);
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(intro.active).toBe(true);
    expect(workspaceOf(intro)).toEqual(expected);

    const jwt = await login(ada, { scope: 'openid workspace offline_access', resource: API, workspace: ws.beta.id });
    expect(decodeProtectedHeader(jwt.tokens.access_token).typ).toBe('at+jwt');
    const { payload } = await jwtVerify(jwt.tokens.access_token, createRemoteJWKSet(new URL(`${gh.issuer}/jwks`)), { issuer: gh.issuer, audience: API, typ: 'at+jwt' });
    expect(workspaceOf(payload)).toEqual({ id: ws.beta.id, slug: 'beta', name: 'Beta Corp', role: 'member' });
    expect(payload.scope).toBe('workspace');
  });

  it('without the workspace scope no token names a workspace', async () => {
    const { tokens } = await login(ada, { scope: 'openid email', workspace: 'acme' });
    expect(tokens.claims()!.workspace_id).toBeUndefined();
    expect((await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).workspace_id).toBeUndefined();
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).workspace_id).toBeUndefined();
  });

  it('a workspace the user is not in (by slug or id) gets access_denied with a clear description, signed in or not', async () => {
    const eve = await user('eve');
    for (const ref of ['acme', ws.beta.id, 'no-such-workspace']) {
      const cb = await authorize(eve, { workspace: ref });
      expect(cb.searchParams.get('error')).toBe('access_denied');
      expect(cb.searchParams.get('error_description')).toBe(`the user is not a member of the workspace "${ref}"`);
      expect(cb.searchParams.get('code')).toBeNull();
    }
    // already signed in, silently
    const agent = new Agent();
    await login(ada, { agent, workspace: 'acme' });
    const silent = await authorize(undefined, { workspace: NIL_UUID, prompt: 'none' }, agent);
    expect(silent.searchParams.get('error')).toBe('access_denied');
    expect(silent.searchParams.get('error_description')).toMatch(/not a member/);
    const ok = await authorize(undefined, { workspace: 'beta', prompt: 'none' }, agent);
    expect(ok.searchParams.get('code')).toBeTruthy();
    // malformed: refused with the request, before any sign-in
    const bad = await authorize(undefined, { workspace: 'Not A Slug!' });
    expect(bad.searchParams.get('error')).toBe('invalid_request');
    expect(bad.searchParams.get('error_description')).toMatch(/workspace must be a workspace id or slug/);
  });
});

describe('switching, refreshing and removal', () => {
  it('the active workspace stays put across refresh; after a switch the next refresh names the new one', async () => {
    const bob = await user('bob');
    await addMember('acme', bob, 'admin');
    await addMember('beta', bob, 'member');
    const { tokens } = await login(bob, { workspace: 'acme' });
    const once1 = await refresh(tokens.refresh_token!);
    expect(workspaceOf(once1.claims())).toMatchObject({ slug: 'acme', role: 'admin' });
    const twice = await refresh(once1.refresh_token!);
    expect(workspaceOf(twice.claims())).toMatchObject({ slug: 'acme', role: 'admin' });

    const switched = await post('/api/me/active-workspace', twice.access_token, { workspace_id: 'beta' });
    expect(switched).toEqual({ status: 200, body: { ok: true, active_workspace: ws.beta.id } });
    const after = await refresh(twice.refresh_token!);
    expect(workspaceOf(after.claims())).toEqual({ id: ws.beta.id, slug: 'beta', name: 'Beta Corp', role: 'member' });
    expect(workspaceOf(await oidc.tokenIntrospection(config, after.access_token))).toMatchObject({ slug: 'beta' });
    expect(workspaceOf(await oidc.fetchUserInfo(config, after.access_token, after.claims()!.sub))).toMatchObject({ slug: 'beta' });
    expect(await get('/api/me/active-workspace', after.access_token)).toMatchObject({ status: 200, body: { active_workspace: ws.beta.id } });

    // by id works too; a workspace bob is not in gets 403 and changes nothing; unknown 404; malformed 400
    const mine = await gh.cliJson(['workspaces', 'create', '--slug', `solo-${seq++}`, '--name', 'Solo', '--owner', owner]);
    expect(await post('/api/me/active-workspace', after.access_token, { workspace_id: mine.id })).toMatchObject({ status: 403, body: { error: 'not_a_member' } });
    expect(await post('/api/me/active-workspace', after.access_token, { workspace_id: mine.slug })).toMatchObject({ status: 403, body: { error: 'not_a_member' } });
    expect(await post('/api/me/active-workspace', after.access_token, { workspace_id: NIL_UUID })).toMatchObject({ status: 404, body: { error: 'workspace_not_found' } });
    expect(await post('/api/me/active-workspace', after.access_token, { workspace_id: 'Not A Slug' })).toMatchObject({ status: 400, body: { error: 'invalid_workspace' } });
    expect(await post('/api/me/active-workspace', after.access_token, {})).toMatchObject({ status: 400, body: { message: expect.stringMatching(/workspace_id is required/) } });
    const still = await refresh(after.refresh_token!);
    expect(workspaceOf(still.claims())).toMatchObject({ slug: 'beta' });

    // a token without the workspace scope may not switch
    const narrow = await login(bob, { scope: 'openid email' });
    expect(await post('/api/me/active-workspace', narrow.tokens.access_token, { workspace_id: 'acme' })).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  });

  it('after removal a refresh names the next workspace, then none; never the stale role', async () => {
    const cy = await user('cy');
    await addMember('acme', cy, 'member');
    await addMember('beta', cy, 'admin');
    const { tokens } = await login(cy, { workspace: 'beta' });
    expect(workspaceOf(tokens.claims())).toMatchObject({ slug: 'beta', role: 'admin' });

    await gh.cliJson(['workspaces', 'remove-member', '--workspace', 'beta', '--email', cy]);
    const next = await refresh(tokens.refresh_token!);
    expect(workspaceOf(next.claims())).toEqual({ id: ws.acme.id, slug: 'acme', name: 'Acme', role: 'member' });
    expect(next.claims()!.workspaces).toEqual([{ id: ws.acme.id, slug: 'acme', name: 'Acme', role: 'member' }]);
    expect(workspaceOf(await oidc.tokenIntrospection(config, next.access_token))).toMatchObject({ slug: 'acme', role: 'member' });

    // the owner removes cy from acme through the API
    const cyId = next.claims()!.sub;
    expect(await del(`/api/workspaces/acme/members/${cyId}`, ownerToken)).toEqual({ status: 200, body: { removed: cyId } });
    const none = await refresh(next.refresh_token!);
    const claims = none.claims()!;
    expect(claims.workspace_id).toBeUndefined();
    expect(claims.workspace_role).toBeUndefined();
    expect(claims.workspaces).toEqual([]);
    const info = await oidc.fetchUserInfo(config, none.access_token, claims.sub);
    expect(info.workspace_id).toBeUndefined();
    expect((await oidc.tokenIntrospection(config, none.access_token)).workspace_id).toBeUndefined();
  });

  it('after the workspace is deleted no new token names it', async () => {
    const dee = await user('dee');
    const doomed = await gh.cliJson(['workspaces', 'create', '--slug', `doomed-${seq++}`, '--name', 'Doomed', '--owner', owner]);
    await addMember(doomed.slug, dee, 'admin');
    const { tokens } = await login(dee, { workspace: doomed.slug });
    expect(workspaceOf(tokens.claims())).toMatchObject({ id: doomed.id });
    expect(await del(`/api/workspaces/${doomed.slug}`, ownerToken)).toEqual({ status: 200, body: { deleted: doomed.id } });
    const after = await refresh(tokens.refresh_token!);
    expect(after.claims()!.workspace_id).toBeUndefined();
    expect(after.claims()!.workspaces).toEqual([]);
  });
});

describe('the workspace API', () => {
  let admin: string; let adminToken: string;
  let member: string; let memberToken: string; let memberId: string;
  let outsiderToken: string;
  let ownerId: string;

  beforeAll(async () => {
    [admin, member] = [await user('admin'), await user('member')];
    const outsider = await user('outsider');
    await addMember('acme', admin, 'admin');
    await addMember('acme', member, 'member');
    adminToken = (await login(admin, { workspace: 'acme' })).tokens.access_token;
    const m = await login(member, { workspace: 'acme' });
    memberToken = m.tokens.access_token;
    memberId = m.tokens.claims()!.sub;
    outsiderToken = (await login(outsider)).tokens.access_token;
    ownerId = decodeJwtSub((await login(owner)).tokens.id_token!);
  });
  const decodeJwtSub = (idToken: string) => String(decodeJwt(idToken).sub);

  it('lists my workspaces with my role and the active one', async () => {
    const r = await get('/api/workspaces', memberToken);
    expect(r.status).toBe(200);
    expect(r.body.workspaces).toEqual([expect.objectContaining({ id: ws.acme.id, slug: 'acme', role: 'member', active: true })]);
    expect(await get('/api/workspaces', outsiderToken)).toEqual({ status: 200, body: { workspaces: [] } });
    expect((await get('/api/workspaces', undefined)).status).toBe(401);
    const cc = await oidc.clientCredentialsGrant(config, {});
    expect((await get('/api/workspaces', cc.access_token)).status).toBe(401);
  });

  it('a member cannot raise their own role or manage others; an admin cannot touch owners', async () => {
    for (const role of ['admin', 'owner']) {
      expect(await patch(`/api/workspaces/acme/members/${memberId}`, memberToken, { role })).toMatchObject({ status: 403, body: { error: 'insufficient_role' } });
    }
    expect(await del(`/api/workspaces/acme/members/${ownerId}`, memberToken)).toMatchObject({ status: 403, body: { error: 'insufficient_role' } });
    expect(await patch('/api/workspaces/acme', memberToken, { name: 'Mine' })).toMatchObject({ status: 403 });
    expect(await del('/api/workspaces/acme', memberToken)).toMatchObject({ status: 403 });
    expect(await post('/api/workspaces/acme/invitations', memberToken, { email: address('x') })).toMatchObject({ status: 403 });
    expect(await get('/api/workspaces/acme/invitations', memberToken)).toMatchObject({ status: 403 });

    expect(await patch(`/api/workspaces/acme/members/${ownerId}`, adminToken, { role: 'member' })).toMatchObject({ status: 403, body: { error: 'insufficient_role' } });
    expect(await patch(`/api/workspaces/acme/members/${memberId}`, adminToken, { role: 'owner' })).toMatchObject({ status: 403 });
    expect(await del(`/api/workspaces/acme/members/${ownerId}`, adminToken)).toMatchObject({ status: 403 });
    expect(await del('/api/workspaces/acme', adminToken)).toMatchObject({ status: 403 });
    expect(await post('/api/workspaces/acme/invitations', adminToken, { email: address('x'), role: 'owner' })).toMatchObject({ status: 403 });

    // nothing changed
    const members = (await get('/api/workspaces/acme/members', memberToken)).body.members;
    expect(members.find((m: any) => m.user_id === memberId).role).toBe('member');
    expect(members.find((m: any) => m.user_id === ownerId).role).toBe('owner');

    // what an admin may do
    expect(await patch(`/api/workspaces/acme/members/${memberId}`, adminToken, { role: 'admin' })).toMatchObject({ status: 200, body: { role: 'admin' } });
    expect(await patch(`/api/workspaces/acme/members/${memberId}`, adminToken, { role: 'member' })).toMatchObject({ status: 200, body: { role: 'member' } });
  });

  it('nobody acts on a workspace they are not in, by id or by slug', async () => {
    for (const ref of ['acme', ws.acme.id, 'ACME']) {
      expect(await get(`/api/workspaces/${ref}`, outsiderToken)).toMatchObject({ status: 403, body: { error: 'not_a_member' } });
      expect(await get(`/api/workspaces/${ref}/members`, outsiderToken)).toMatchObject({ status: 403 });
      expect(await patch(`/api/workspaces/${ref}`, outsiderToken, { name: 'Hijacked' })).toMatchObject({ status: 403 });
      expect(await patch(`/api/workspaces/${ref}/members/${memberId}`, outsiderToken, { role: 'admin' })).toMatchObject({ status: 403 });
      expect(await del(`/api/workspaces/${ref}/members/${memberId}`, outsiderToken)).toMatchObject({ status: 403 });
      expect(await post(`/api/workspaces/${ref}/invitations`, outsiderToken, { email: address('x') })).toMatchObject({ status: 403 });
    }
    expect((await get('/api/workspaces/acme', ownerToken)).body.name).toBe('Acme');
  });

  it('the last owner cannot leave or be demoted', async () => {
    expect(await del(`/api/workspaces/acme/members/${ownerId}`, ownerToken)).toMatchObject({ status: 409, body: { error: 'last_owner' } });
    expect(await patch(`/api/workspaces/acme/members/${ownerId}`, ownerToken, { role: 'admin' })).toMatchObject({ status: 409, body: { error: 'last_owner' } });
  });

  it('unknown ids, malformed slugs and bodies, duplicate slugs: clear 4xx, nothing half-created', async () => {
    expect(await get(`/api/workspaces/${NIL_UUID}`, ownerToken)).toMatchObject({ status: 404, body: { error: 'workspace_not_found' } });
    expect(await get('/api/workspaces/no-such-one', ownerToken)).toMatchObject({ status: 404 });
    expect(await get('/api/workspaces/Not_A_Slug', ownerToken)).toMatchObject({ status: 400, body: { error: 'invalid_workspace' } });
    expect(await patch('/api/workspaces/acme/members/not-a-uuid', ownerToken, { role: 'member' })).toMatchObject({ status: 400 });
    expect(await patch(`/api/workspaces/acme/members/${NIL_UUID}`, ownerToken, { role: 'member' })).toMatchObject({ status: 404, body: { error: 'member_not_found' } });
    expect(await patch(`/api/workspaces/acme/members/${memberId}`, ownerToken, { role: 'god' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/role must be one of owner, admin, member/) } });
    expect(await del(`/api/workspaces/acme/invitations/${NIL_UUID}`, ownerToken)).toMatchObject({ status: 404 });

    const before = (await get('/api/workspaces', memberToken)).body.workspaces.length;
    expect(await post('/api/workspaces', memberToken, { slug: 'acme', name: 'Second Acme' })).toMatchObject({ status: 409, body: { error: 'slug_taken' } });
    expect(await post('/api/workspaces', memberToken, { slug: 'Bad Slug', name: 'X' })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/slug/) } });
    expect(await post('/api/workspaces', memberToken, { slug: 'fine-one', name: '' })).toMatchObject({ status: 400 });
    expect(await post('/api/workspaces', memberToken, { slug: 'fine-one', name: 'X', owner: 'me' })).toMatchObject({ status: 400, body: { message: 'unknown field owner' } });
    expect(await post('/api/workspaces', memberToken, ['not', 'an', 'object'])).toMatchObject({ status: 400 });
    const malformed = await call('/api/workspaces', memberToken, { method: 'POST', body: '{"slug":' });
    expect(malformed.status).toBe(400);
    expect((await get('/api/workspaces', memberToken)).body.workspaces).toHaveLength(before);
    expect(await get('/api/workspaces/fine-one', ownerToken)).toMatchObject({ status: 404 });
  });

  it('an owner creates, renames and deletes; the creator is its owner', async () => {
    const slug = `made-${seq++}`;
    const created = await post('/api/workspaces', memberToken, { slug, name: 'Made Here' });
    expect(created).toMatchObject({ status: 201, body: { slug, name: 'Made Here', role: 'owner' } });
    expect(await patch(`/api/workspaces/${slug}`, memberToken, { name: 'Renamed' })).toMatchObject({ status: 200, body: { name: 'Renamed' } });
    expect(await del(`/api/workspaces/${created.body.id}`, memberToken)).toMatchObject({ status: 200, body: { deleted: created.body.id } });
    expect(await get(`/api/workspaces/${slug}`, memberToken)).toMatchObject({ status: 404 });
  });

  it('accepts the hosted session, and refuses a cross-site change made with it', async () => {
    const agent = new Agent();
    await login(member, { agent });
    const list = await agent.request(`${gh.issuer}/api/workspaces`);
    expect(list.status).toBe(200);
    expect((await list.json() as any).workspaces[0].slug).toBe('acme');
    const body = JSON.stringify({ workspace_id: 'acme' });
    const evil = await agent.request(`${gh.issuer}/api/me/active-workspace`, { method: 'POST', body, headers: { 'content-type': 'application/json', origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    const own = await agent.request(`${gh.issuer}/api/me/active-workspace`, { method: 'POST', body, headers: { 'content-type': 'application/json', origin: new URL(gh.issuer).origin } });
    expect(await own.json()).toEqual({ ok: true, active_workspace: ws.acme.id });
    expect((await new Agent().request(`${gh.issuer}/api/workspaces`)).status).toBe(401);
  });

  it('the workspace scope reads and switches; every change needs workspace:manage (403 insufficient_scope, RFC 6750)', async () => {
    const readOnly = (await login(owner, { scope: 'openid workspace offline_access', workspace: 'acme' })).tokens.access_token;
    expect((await get('/api/workspaces', readOnly)).status).toBe(200);
    expect((await get(`/api/workspaces/${ws.acme.id}/members`, readOnly)).status).toBe(200);
    expect((await get('/api/workspaces/acme/invitations', readOnly)).status).toBe(200);
    expect(await post('/api/me/active-workspace', readOnly, { workspace_id: 'beta' })).toMatchObject({ status: 200, body: { active_workspace: ws.beta.id } });
    expect((await post('/api/me/active-workspace', readOnly, { workspace_id: 'acme' })).status).toBe(200);
    const changes: Array<[string, string, unknown?]> = [
      ['POST', '/api/workspaces', { slug: 'not-made', name: 'Not made' }],
      ['PATCH', '/api/workspaces/acme', { name: 'Renamed by an app' }],
      ['DELETE', '/api/workspaces/beta'],
      ['PATCH', `/api/workspaces/acme/members/${memberId}`, { role: 'admin' }],
      ['DELETE', `/api/workspaces/acme/members/${memberId}`],
      ['POST', '/api/workspaces/acme/invitations', { email: 'new-admin@example.test', role: 'admin' }],
      ['DELETE', `/api/workspaces/acme/invitations/${NIL_UUID}`],
      ['POST', '/api/invitations/accept', { token: 'x'.repeat(43) }],
    ];
    for (const [method, path, body] of changes) {
      const res = await call(path, readOnly, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(await res.json()).toMatchObject({ error: 'insufficient_scope', message: expect.stringContaining('workspace:manage') });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="workspace:manage"');
    }
    // nothing changed
    const mine = (await get('/api/workspaces', ownerToken)).body.workspaces as Array<{ slug: string; name: string }>;
    expect(mine.map((w) => w.slug).sort()).toEqual(expect.arrayContaining(['acme', 'beta']));
    expect(mine.find((w) => w.slug === 'acme')!.name).toBe('Acme');
    expect(mine.some((w) => w.slug === 'not-made')).toBe(false);
    expect((await get('/api/workspaces/acme/members', ownerToken)).body.members).toEqual(expect.arrayContaining([expect.objectContaining({ user_id: memberId, role: 'member' })]));
    // and workspace:manage alone does not read (reading is the workspace scope's)
    const manageOnly = (await login(owner, { scope: 'openid workspace:manage' })).tokens.access_token;
    expect(await get('/api/workspaces', manageOnly)).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  });

  it('workspace:manage is never granted by default and only to clients registered with it', async () => {
    const plain = await gh.cliJson(['clients', 'create', '--name', 'Reader', '--redirect-uri', REDIRECT, '--scopes', 'openid workspace']);
    expect(plain.scope).not.toMatch(/manage/);
    const byDefault = await gh.cliJson(['clients', 'create', '--name', 'Defaults', '--redirect-uri', REDIRECT]);
    expect(byDefault.scope.split(' ')).not.toEqual(expect.arrayContaining(['workspace:manage']));
    expect(byDefault.scope.split(' ')).not.toEqual(expect.arrayContaining(['profile:write']));
    const rpPlain = { issuer: gh.issuer, clientId: plain.client_id, clientSecret: plain.client_secret, redirectUri: REDIRECT };
    await expect(signIn(await discover(rpPlain), { ...rpPlain, email: owner, password: PASSWORD, scope: 'openid workspace workspace:manage' }))
      .rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('is described in the OpenAPI document, with the scope each operation needs', async () => {
    const doc = await (await fetch(`${gh.issuer}/api/openapi.json`)).json() as { paths: Record<string, any> };
    for (const p of ['/api/workspaces', '/api/workspaces/{ref}', '/api/workspaces/{ref}/members/{user_id}', '/api/workspaces/{ref}/invitations', '/api/me/active-workspace']) {
      expect(doc.paths[p]).toBeTruthy();
    }
    expect(doc.paths['/api/workspaces'].get.security).toEqual([{ bearer: ['workspace'] }]);
    expect(doc.paths['/api/workspaces'].post.security).toEqual([{ bearer: ['workspace:manage'] }]);
    expect(doc.paths['/api/workspaces/{ref}'].delete.security).toEqual([{ bearer: ['workspace:manage'] }]);
    expect(doc.paths['/api/me/active-workspace'].post.security).toEqual([{ bearer: ['workspace'] }]);
  });
});

describe('invitations', () => {
  /** The accept link from the newest invitation mail to `to`. */
  function linkFor(to: string): string {
    const mail = messagesTo(gh.dataDir, to).at(-1);
    const m = /(http:\/\/[^\s"<>]+\/invitations\/accept\?token=[A-Za-z0-9_-]+)/.exec(mail ?? '');
    if (!m) throw new Error(`no invitation link for ${to} in:\n${mail}`);
    return m[1]!;
  }

  it('a new person signs up on the way, joins with the role, and the link works once', async () => {
    const email = address('newbie');
    const r = await post('/api/workspaces/acme/invitations', ownerToken, { email, role: 'member' });
    expect(r).toMatchObject({ status: 201, body: { email, role: 'member', status: 'pending' } });
    expect(JSON.stringify(r.body)).not.toMatch(/token/);
    const mail = messagesTo(gh.dataDir, email).at(-1)!;
    expect(mail).toMatch(/invited you to join the workspace \S{0,3}Acme\S{0,3} on Gatehouse as member/); // typographic quotes, read from the raw message
    const link = linkFor(email);
    expect(new URL(link).origin).toBe(gh.issuer);
    const token = new URL(link).searchParams.get('token')!; // the form's hidden field (Agent.submit sends only what it is given)

    const agent = new Agent();
    const page = await agent.go(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Create account and join');
    expect(page.html).toContain(email);
    const weak = await agent.submit(page, formAction(page.html, '/invitations/signup'), { token, name: 'New Bie', password: 'short' });
    expect(weak.status).toBe(400);
    const done = await agent.submit(weak, formAction(weak.html, '/invitations/signup'), { token, name: 'New Bie', password: PASSWORD });
    expect(done.status).toBe(200);
    expect(done.html).toContain('You joined Acme');

    const { tokens } = await login(email, { workspace: 'acme' });
    expect(workspaceOf(tokens.claims())).toMatchObject({ slug: 'acme', role: 'member' });
    expect(tokens.claims()!.email_verified).toBe(true);

    const again = await new Agent().go(link);
    expect(again.status).toBe(410);
    expect(again.html).toContain('already been used');
  });

  it('an invitation for another address cannot be accepted, signed in or by API; the invitee can', async () => {
    const invitee = await user('invitee');
    const eve = await user('eve');
    await post('/api/workspaces/acme/invitations', ownerToken, { email: invitee, role: 'admin' });
    const link = linkFor(invitee);
    const token = new URL(link).searchParams.get('token')!;

    // eve, signed in to the hosted pages, opens bob's link
    const agent = new Agent();
    const eveTokens = (await login(eve, { agent })).tokens;
    const page = await agent.go(link);
    expect(page.html).toContain(`You are signed in as <strong class="address">${eve}</strong>`);
    const accept = await agent.request(`${gh.issuer}/invitations/accept`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: agent.cookies.get('gh_csrf')!, token }), // a valid form token: the refusal is about the address
    });
    expect(accept.status).toBe(403);
    expect(await post('/api/invitations/accept', eveTokens.access_token, { token })).toMatchObject({ status: 403, body: { error: 'invitation_email_mismatch' } });
    expect((await get('/api/workspaces', eveTokens.access_token)).body.workspaces).toEqual([]);

    // the invitee signs in through the hosted sign-in (second factor included) and comes back to accept
    const own = new Agent();
    const form = await own.go(link);
    expect(form.html).toContain('Sign in to join');
    expect(form.html).not.toContain('type="password"');
    const signinHref = /href="([^"]*\/invitations\/signin)"/.exec(form.html)![1]!.replaceAll('&amp;', '&');
    const loginPage = await own.go(new URL(signinHref, gh.issuer).toString());
    expect(loginPage.html).toContain('autocomplete="current-password"');
    const wrong = await own.submit(loginPage, formAction(loginPage.html, '/login'), { email: invitee, password: 'not the password' });
    expect(wrong.status).toBe(401);
    const back = await own.submit(wrong, formAction(wrong.html, '/login'), { email: invitee, password: PASSWORD });
    expect(back.url).toContain('/invitations/accept');
    expect(back.html).toContain('Accept and join');
    const joined = await own.submit(back, formAction(back.html, '/invitations/accept'), { token });
    expect(joined.html).toContain('You joined Acme');
    const { tokens } = await login(invitee, { workspace: 'acme' });
    expect(workspaceOf(tokens.claims())).toMatchObject({ role: 'admin' });
    expect(await post('/api/invitations/accept', tokens.access_token, { token })).toMatchObject({ status: 410, body: { error: 'invitation_used' } });
  });

  it('the invitee, already signed in, accepts with one click', async () => {
    const ivy = await user('ivy');
    await post('/api/workspaces/beta/invitations', ownerToken, { email: ivy, role: 'admin' });
    const link = linkFor(ivy);
    const agent = new Agent();
    await login(ivy, { agent });
    const page = await agent.go(link);
    expect(page.html).toContain('Accept and join');
    expect(page.html).not.toContain('type="password"');
    const done = await agent.submit(page, formAction(page.html, '/invitations/accept'), { token: new URL(link).searchParams.get('token')! });
    expect(done.html).toContain('You joined Beta Corp');
    const { tokens } = await login(ivy, { workspace: 'beta' });
    expect(workspaceOf(tokens.claims())).toMatchObject({ slug: 'beta', role: 'admin' });
  });

  it('accepts by API for the invited account; lists and revokes; a revoked link is refused', async () => {
    const carol = await user('carol');
    const invited = await post('/api/workspaces/beta/invitations', ownerToken, { email: carol.toUpperCase(), role: 'member' });
    const token = new URL(linkFor(carol.toUpperCase())).searchParams.get('token')!;
    const carolToken = (await login(carol)).tokens.access_token;
    expect(await post('/api/invitations/accept', carolToken, { token })).toMatchObject({ status: 200, body: { ok: true, workspace: { id: ws.beta.id, role: 'member' } } });
    expect((await get('/api/workspaces/beta/invitations', ownerToken)).body.invitations.map((i: any) => i.id)).not.toContain(invited.body.id);

    const dan = address('dan');
    const second = await post('/api/workspaces/beta/invitations', ownerToken, { email: dan });
    expect((await get('/api/workspaces/beta/invitations', ownerToken)).body.invitations).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: second.body.id, email: dan, status: 'pending' })]));
    expect(await del(`/api/workspaces/beta/invitations/${second.body.id}`, ownerToken)).toMatchObject({ status: 200, body: { status: 'revoked' } });
    const page = await new Agent().go(linkFor(dan));
    expect(page.status).toBe(410);
    expect(page.html).toContain('withdrawn');
    expect((await new Agent().go(`${gh.issuer}/invitations/accept?token=${'A'.repeat(43)}`)).status).toBe(404);
    expect(await post('/api/workspaces/beta/invitations', ownerToken, { email: carol })).toMatchObject({ status: 409, body: { error: 'already_member' } });
    expect(await post('/api/workspaces/beta/invitations', ownerToken, { email: 'nope' })).toMatchObject({ status: 400 });
  });

  it('limits each inviter to 50 invitations an hour, with a readable 429 and Retry-After; others can still invite', async () => {
    const sender = await user('sender');
    await gh.cliJson(['workspaces', 'create', '--slug', 'mailer', '--name', 'Mailer', '--owner', sender]);
    const senderToken = (await login(sender, { workspace: 'mailer' })).tokens.access_token;
    for (let i = 0; i < 50; i++) {
      expect(await post('/api/workspaces/mailer/invitations', senderToken, { email: address(`bulk${i}`) })).toMatchObject({ status: 201 });
    }
    const refused = await call('/api/workspaces/mailer/invitations', senderToken, { method: 'POST', body: JSON.stringify({ email: address('one-too-many') }) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'too_many_invitations', message: expect.stringContaining('50 invitations in the last hour') });
    expect((await get('/api/workspaces/mailer/invitations', senderToken)).body.invitations).toHaveLength(50); // the refused one was not created
    expect(await post('/api/workspaces/beta/invitations', ownerToken, { email: address('still-fine') })).toMatchObject({ status: 201 });
  });
});

describe('the hosted switcher', () => {
  it('lists memberships and switches with a CSRF-protected form', async () => {
    const fay = await user('fay');
    await addMember('acme', fay, 'member');
    await addMember('beta', fay, 'admin');
    const agent = new Agent();
    const { tokens } = await login(fay, { agent, workspace: 'acme' });
    const page = await agent.go(`${gh.issuer}/account/workspaces`);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/Acme <span class="badge">Active<\/span>/);
    const noCsrf = await agent.request(`${gh.issuer}/account/workspaces/active`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ workspace_id: ws.beta.id }),
    });
    expect(noCsrf.status).toBe(403);
    const done = await agent.submit(page, '/account/workspaces/active', { workspace_id: ws.beta.id });
    expect(done.html).toContain('Beta Corp is now your active workspace.');
    const after = await refresh(tokens.refresh_token!);
    expect(workspaceOf(after.claims())).toMatchObject({ slug: 'beta', role: 'admin' });
    const foreign = await gh.cliJson(['workspaces', 'create', '--slug', `foreign-${seq++}`, '--name', 'Foreign', '--owner', owner]);
    const refused = await agent.submit(done, '/account/workspaces/active', { workspace_id: foreign.id });
    expect(refused.status).toBe(403);
    // not signed in: off to the hosted sign-in
    expect((await new Agent().go(`${gh.issuer}/account/workspaces`)).url).toContain('/interaction/');
  });
});

describe('the example resource server', () => {
  let server: Server;
  let rs: string;
  beforeAll(async () => {
    server = createResourceServer({ issuer: gh.issuer, audience: API }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    rs = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { server?.closeAllConnections(); await new Promise((r) => server?.close(r)); });

  const rsCall = (path: string, token: string | undefined, method = 'GET') =>
    fetch(`${rs}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('accepts tokens by workspace role and refuses everything else', async () => {
    const gus = await user('gus');
    await addMember('acme', gus, 'admin');
    await addMember('beta', gus, 'member');
    const asAdmin = await login(gus, { scope: 'openid workspace offline_access', resource: API, workspace: 'acme' });
    const who = await rsCall('/whoami', asAdmin.tokens.access_token);
    expect(await who.json()).toEqual({ sub: asAdmin.tokens.claims()!.sub, workspace: { id: ws.acme.id, slug: 'acme', name: 'Acme', role: 'admin' } });
    expect((await rsCall('/projects', asAdmin.tokens.access_token, 'POST')).status).toBe(201);

    const asMember = await login(gus, { scope: 'openid workspace offline_access', resource: API, workspace: 'beta' });
    expect((await rsCall('/projects', asMember.tokens.access_token)).status).toBe(200);
    const refused = await rsCall('/projects', asMember.tokens.access_token, 'POST');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'insufficient_role' });

    // a switch reaches the API at the next refresh
    const admin = await login(gus, { workspace: 'acme' });
    expect((await rsCall('/projects', (await refresh(asMember.tokens.refresh_token!, API)).access_token, 'POST')).status).toBe(201);
    expect(admin.tokens.access_token).toBeTruthy();

    expect((await rsCall('/projects', undefined)).status).toBe(401);
    expect((await rsCall('/projects', asAdmin.tokens.id_token!)).status).toBe(401); // an ID token is not an access token
    expect((await rsCall('/projects', admin.tokens.access_token)).status).toBe(401); // opaque, for userinfo
    const other = await login(gus, { scope: 'openid workspace offline_access', resource: OTHER_API, workspace: 'acme' });
    expect((await rsCall('/projects', other.tokens.access_token)).status).toBe(401); // another audience
    const [h, p, s] = asAdmin.tokens.access_token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(asAdmin.tokens.access_token), workspace_role: 'owner' })).toString('base64url')}.${s}`;
    expect(p).toBeTruthy();
    expect((await rsCall('/projects', forged, 'POST')).status).toBe(401);

    const noWorkspace = await login(gus, { scope: 'openid offline_access', resource: API });
    expect((await rsCall('/projects', noWorkspace.tokens.access_token)).status).toBe(403);
  });
});
