// Sign-in takes the same path whether or not the account exists (issue 11, no timing enumeration):
// an unknown address, a disabled account and an account without a password each still pay one
// argon2 verification, against a hash made with the very parameters real hashes use. Structural,
// not a stopwatch: the test counts the verifications and reads their hashes.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import argon2 from 'argon2';
import { postgresRoot, type Root } from '../support/root.ts';
import { requireReal } from '../support/env.ts';

requireReal();

const PASSWORD = 'correct horse battery staple';
let store: Awaited<ReturnType<typeof postgresRoot>>;
let c: Root;

beforeAll(async () => {
  store = await postgresRoot();
  c = store.root;
});
afterAll(async () => {
  jest.restoreAllMocks();
  await store?.dispose();
});

/** The parameters part of an encoded argon2 hash ($argon2id$v=19$m=…,t=…,p=…$). */
const params = (hash: string) => hash.split('$').slice(1, 4).join('$');

describe('authenticate', () => {
  it('verifies one argon2 hash with the real parameters, whether or not the account exists', async () => {
    const real = await c.accounts.create({ email: 'timing-real@example.com', password: PASSWORD });
    await c.accounts.create({ email: 'timing-nopass@example.com' });
    const verify = jest.spyOn(argon2, 'verify');
    const hashesFor = async (email: string, password: string) => {
      verify.mockClear();
      expect(await c.accounts.authenticate(email, password)).toBeUndefined();
      return verify.mock.calls.map((call) => call[0] as string);
    };
    const known = await hashesFor('timing-real@example.com', 'a wrong password here');
    const unknown = await hashesFor('timing-nobody@example.com', 'a wrong password here');
    const noPassword = await hashesFor('timing-nopass@example.com', 'a wrong password here');
    expect(known).toEqual([real.password_hash]);
    expect(unknown).toHaveLength(1);
    expect(noPassword).toHaveLength(1);
    expect(params(unknown[0]!)).toBe(params(real.password_hash!));
    expect(params(noPassword[0]!)).toBe(params(real.password_hash!));
  });
});
