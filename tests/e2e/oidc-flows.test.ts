// The protocol, end to end: openid-client as the relying party against a real server on real
// Postgres and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent, discover, formAction, signIn } from '../support/agent.ts';

const REDIRECT = 'http://127.0.0.1:7999/cb';
const EMAIL = 'ada@example.test';
const PASSWORD = 'correct horse battery staple';
let gh: TestServer;
let web: { client_id: string; client_secret: string };
let config: oidc.Configuration;
const rp = () => ({ issuer: gh.issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT });

beforeAll(async () => {
  gh = await startServer({ env: { GATEHOUSE_RESOURCES: 'https://api.example.test' } });
  web = await gh.cliJson(['clients', 'create', '--name', 'Web App', '--redirect-uri', REDIRECT,
    '--post-logout-redirect-uri', 'http://127.0.0.1:7999/bye',
    '--grant-types', 'authorization_code,refresh_token,client_credentials', '--scopes', 'openid profile email offline_access']);
  await gh.cliJson(['users', 'create', '--email', EMAIL, '--password', PASSWORD, '--name', 'Ada Lovelace']);
  config = await discover(rp());
});
afterAll(async () => { await gh?.destroy(); });

describe('authorization code + PKCE', () => {
  it('signs in and returns verifiable tokens with the contract claims', async () => {
    const { tokens, callback } = await signIn(config, { ...rp(), email: EMAIL, password: PASSWORD });
    expect(callback.searchParams.get('iss')).toBe(gh.issuer); // RFC 9207
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(gh.issuer);
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.email).toBe(EMAIL);
    expect(claims.name).toBe('Ada Lovelace');
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('pwd');
    expect(typeof claims.auth_time).toBe('number');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    expect(tokens.refresh_token).toBeTruthy();
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe(EMAIL);
  });
});
