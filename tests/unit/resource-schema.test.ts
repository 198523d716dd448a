// Resources: what a resource may be (audience, claims, scopes, lifetime), the claim → scope pairs in
// step with the claim contract, and the in-memory view the token path reads (precedence of
// GATEHOUSE_RESOURCES, disabled resources, reloading after a change, a failed load not kept).
import { describe, expect, it } from '@jest/globals';
import { SCOPE_CLAIMS } from '../../src/oidc/claims.ts';
import {
  RESOURCE_CLAIMS, RESERVED_SCOPES, audienceProblem, resourceCreateSchema, resourcePatchSchema, resourceServerScopes, describeResourceError,
} from '../../src/resources/resource.schema.ts';
import { createResourceRegistry, mergeResources } from '../../src/resources/resource-registry.ts';
import type { ResourceRow } from '../../src/resources/resource.repo.ts';

const row = (over: Partial<ResourceRow>): ResourceRow => ({
  id: '00000000-0000-4000-8000-000000000001', audience: 'https://api.example.com', name: 'API', claims: [], scopes: [],
  access_token_ttl: null, enabled: true, source: 'cli', created_at: new Date(), updated_at: new Date(), ...over,
});
const settings = { envAudiences: [] as string[], accessTokenTtl: 3600 };

describe('the claims an API may ask for', () => {
  it('each needs the scope that releases it in the claim contract (src/oidc/claims.ts)', () => {
    for (const [claim, scope] of Object.entries(RESOURCE_CLAIMS)) expect({ claim, in: SCOPE_CLAIMS[scope] }).toEqual({ claim, in: expect.arrayContaining([claim]) });
  });
  it('never includes sub, the workspace claims or how the user signed in', () => {
    for (const claim of ['sub', 'workspace_id', 'acr', 'amr', 'act', 'updated_at']) expect(Object.keys(RESOURCE_CLAIMS)).not.toContain(claim);
  });
  it('every scope with claims is reserved: an API cannot take one as its own', () => {
    for (const scope of Object.keys(SCOPE_CLAIMS)) expect(RESERVED_SCOPES.has(scope)).toBe(true);
  });
});

describe('an audience', () => {
  it('is an absolute https URI without a fragment; http only for a loopback host outside production', () => {
    expect(audienceProblem('https://api.example.com', 'production')).toBeUndefined();
    expect(audienceProblem('https://api.example.com/v1', 'production')).toBeUndefined();
    expect(audienceProblem('http://localhost:4000', 'development')).toBeUndefined();
    expect(audienceProblem('http://127.0.0.1:4000', 'test')).toBeUndefined();
    expect(audienceProblem('http://localhost:4000', 'production')).toMatch(/not allowed in production/);
    expect(audienceProblem('http://api.example.com', 'development')).toMatch(/https/);
    expect(audienceProblem('https://api.example.com/#x', 'development')).toMatch(/fragment/);
    expect(audienceProblem('https://user:pw@api.example.com', 'development')).toMatch(/credentials/);
    expect(audienceProblem('api.example.com', 'development')).toMatch(/absolute URI/);
    expect(audienceProblem('urn:example:api', 'development')).toMatch(/https/);
  });
});

describe('the input', () => {
  const parse = (v: unknown) => {
    const r = resourceCreateSchema.safeParse(v);
    return r.success ? r.data : describeResourceError(r.error);
  };
  it('takes lists as arrays or as strings separated by spaces or commas, without repeats', () => {
    expect(parse({ audience: 'https://a.example', claims: 'email, name,email', scopes: 'orders:read  orders:write' }))
      .toMatchObject({ claims: ['email', 'name'], scopes: ['orders:read', 'orders:write'] });
    expect(parse({ audience: 'https://a.example', claims: ['roles'], scopes: [] })).toMatchObject({ claims: ['roles'], scopes: [] });
  });
  it('refuses unknown claims, Gatehouse scopes, odd scope names, out-of-bounds lifetimes and unknown fields', () => {
    expect(parse({ audience: 'https://a.example', claims: 'email,ssn' })).toMatch(/claims must be among/);
    expect(parse({ audience: 'https://a.example', scopes: 'read admin' })).toMatch(/"admin" is a Gatehouse scope/);
    expect(parse({ audience: 'https://a.example', scopes: 'read\u0000' })).toMatch(/a scope is/);
    expect(parse({ audience: 'https://a.example', ttl: 59 })).toMatch(/at least 60/);
    expect(parse({ audience: 'https://a.example', ttl: 86_401 })).toMatch(/at most 86400/);
    expect(parse({ audience: 'https://a.example', ttl: 1.5 })).toMatch(/whole number/);
    expect(parse({ audience: 'https://a.example', owner: 'x' })).toBe('unknown field: owner');
    expect(resourcePatchSchema.safeParse({ audience: 'https://b.example' }).success).toBe(false);
  });
});

describe('the scopes the provider knows a resource by', () => {
  it('are its own, workspace, and the scopes behind its claims', () => {
    expect(resourceServerScopes({ scopes: ['orders:read'], claims: ['email', 'email_verified', 'name', 'roles'] }))
      .toEqual(['orders:read', 'workspace', 'email', 'profile', 'roles']);
    expect(resourceServerScopes({ scopes: [], claims: [] })).toEqual(['workspace']);
  });
});

describe('the in-memory view', () => {
  it('GATEHOUSE_RESOURCES wins for an audience it names; disabled resources are not there', () => {
    const view = mergeResources([
      row({ audience: 'https://a.example', claims: ['email'], access_token_ttl: 600 }),
      row({ audience: 'https://env.example', claims: ['email', 'roles'] }),
      row({ audience: 'https://off.example', enabled: false }),
    ], { envAudiences: ['https://env.example'], accessTokenTtl: 3600 });
    expect(view.get('https://a.example')).toMatchObject({ source: 'stored', claims: ['email'], accessTokenTtl: 600, serverScopes: 'workspace email' });
    expect(view.get('https://env.example')).toMatchObject({ source: 'env', claims: [], serverScopes: 'read write workspace', accessTokenTtl: 3600 });
    expect(view.has('https://off.example')).toBe(false);
  });

  it('never gives a token a longer life than GATEHOUSE_ACCESS_TOKEN_TTL, even when it was lowered later', () => {
    expect(mergeResources([row({ access_token_ttl: 3600 })], { envAudiences: [], accessTokenTtl: 900 }).get('https://api.example.com')!.accessTokenTtl).toBe(900);
  });

  it('loads once for many readers, reloads after invalidate, and does not keep a load the change overtook', async () => {
    let rows = [row({ name: 'one' })];
    let calls = 0;
    let release: (() => void) | undefined;
    const registry = createResourceRegistry({
      list: (async () => {
        calls++;
        const snapshot = rows;
        if (release === undefined) await new Promise<void>((r) => { release = r; });
        return snapshot;
      }) as never,
    }, settings);
    const readers = Promise.all([registry.find('https://api.example.com'), registry.find('https://api.example.com')]);
    await new Promise((r) => setImmediate(r));
    rows = [row({ name: 'two' })];
    registry.invalidate(); // the change lands while the first load is under way
    release!();
    expect((await readers).map((r) => r?.name)).toEqual(['one', 'one']);
    expect(calls).toBe(1);
    expect((await registry.find('https://api.example.com'))?.name).toBe('two'); // the overtaken load was not kept
    expect(calls).toBe(2);
    await registry.find('https://api.example.com');
    expect(calls).toBe(2); // memory from now on
  });

  it('a failed load fails its readers and is not kept', async () => {
    let fail = true;
    const registry = createResourceRegistry({ list: (async () => { if (fail) throw new Error('database down'); return [row({})]; }) as never }, settings);
    await expect(registry.find('https://api.example.com')).rejects.toThrow('database down');
    fail = false;
    expect((await registry.find('https://api.example.com'))?.audience).toBe('https://api.example.com');
  });
});
