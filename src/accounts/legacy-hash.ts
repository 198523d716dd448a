// Password hashes made by the systems users move in from (issue 15): recognised at import, verified
// once at the next sign-in, then replaced by Gatehouse's own argon2id (src/accounts/password.ts).
// Every comparison of derived bytes is constant-time; a malformed or out-of-bounds hash never
// authenticates and never throws. A hash is a secret: nothing here logs or echoes one.
//
// Stored forms (users.password_hash, verbatim as imported):
//   $argon2id$v=19$m=…,t=…,p=…$salt$hash     argon2id / argon2i / argon2d, PHC, any parameters
//   $2a$ / $2b$ / $2y$…                      bcrypt (Auth0, fastapi-users < 13, passlib)
//   $pbkdf2$ / $pbkdf2-sha256$ / $pbkdf2-sha512$rounds$salt$hash   passlib (adapted base64)
//   pbkdf2_sha256$iter$salt$b64 / pbkdf2_sha1$…                    Django
//   bcrypt_sha256$$2b$… / bcrypt$$2b$… / argon2$argon2id$… / scrypt$N$salt$r$p$b64   Django
//   $scrypt$ln=…,r=…,p=…$salt$hash           scrypt, PHC and passlib
//   {"credentialData":…,"secretData":…}      Keycloak's password credential (realm export), as JSON
//   32/40/64 hex digits                      unsalted MD5 / SHA-1 / SHA-256 (refused unless allowed)
import { createHash, pbkdf2, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (password: BinaryLike, salt: BinaryLike, keylen: number, options: ScryptOptions) => Promise<Buffer>;

/**
 * Bounds on what one sign-in may be made to spend: each wrong guess pays the stored hash's full
 * cost again (a hash is replaced only after the right password). Just above what the systems we
 * import from use (Django 5's 1,000,000 PBKDF2-SHA256 rounds and argon2 at 100 MiB × 2 passes,
 * Keycloak's 210,000 PBKDF2-SHA512, pwdlib's argon2id at 64 MiB × 3, bcrypt cost 10–12, passlib's
 * 64 MiB scrypt), narrow enough that a crafted import file cannot turn sign-in attempts into seconds
 * of CPU each or a node's memory. Argon2 is bounded by its total work (memory × passes) too.
 */
export const LEGACY_LIMITS = {
  pbkdf2MaxIterations: 1_200_000,
  bcryptMaxCost: 14, // bcryptjs runs on the main thread: 14 is ~4× the usual 12
  argon2MaxMemoryKiB: 256 * 1024, // 256 MiB
  argon2MaxTime: 16,
  argon2MaxWorkKiB: 256 * 1024, // memory × passes: Django's 100 MiB × 2 and pwdlib's 64 MiB × 3 fit
  argon2MaxParallelism: 8,
  scryptMaxLogN: 20,
  scryptMaxMemoryBytes: 256 * 1024 * 1024, // 128 · N · r · p
  scryptMaxRP: 64,
  maxDerivedBytes: 128,
} as const;

export type HashFamily = 'argon2' | 'bcrypt' | 'pbkdf2' | 'scrypt' | 'unsalted';

/** What a stored hash is, and how to check a password against it. */
export interface LegacyHash {
  /** e.g. 'bcrypt', 'passlib-pbkdf2-sha256', 'django-bcrypt_sha256', 'keycloak-pbkdf2-sha512', 'md5' */
  format: string;
  family: HashFamily;
  /** MD5, SHA-1, plain SHA-256: no salt, no cost; the user must choose a new password */
  unsalted: boolean;
  verify(password: string): Promise<boolean>;
}

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** passlib's "adapted base64" ('.' for '+', no padding) and PHC's unpadded base64 both decode here. */
const ab64 = (s: string): Buffer => Buffer.from(s.replace(/\./g, '+'), 'base64');
const B64 = '[A-Za-z0-9+/.]';

function pbkdf2Check(digest: 'sha1' | 'sha256' | 'sha512', iterations: number, salt: Buffer, expected: Buffer) {
  if (!(iterations >= 1 && iterations <= LEGACY_LIMITS.pbkdf2MaxIterations)) return undefined;
  if (expected.length < 16 || expected.length > LEGACY_LIMITS.maxDerivedBytes) return undefined;
  return async (password: string) => sameBytes(await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, expected.length, digest), expected);
}

function scryptCheck(n: number, r: number, p: number, salt: Buffer, expected: Buffer) {
  const logN = Math.log2(n);
  if (!Number.isInteger(logN) || logN < 1 || logN > LEGACY_LIMITS.scryptMaxLogN) return undefined;
  if (!(r >= 1 && p >= 1 && r * p <= LEGACY_LIMITS.scryptMaxRP && 128 * n * r * p <= LEGACY_LIMITS.scryptMaxMemoryBytes)) return undefined;
  if (expected.length < 16 || expected.length > LEGACY_LIMITS.maxDerivedBytes) return undefined;
  const maxmem = 128 * n * r * p + 64 * 1024 * 1024;
  return async (password: string) =>
    sameBytes(await scryptAsync(Buffer.from(password, 'utf8'), salt, expected.length, { N: n, r, p, maxmem }), expected);
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
function bcryptCheck(hash: string, transform: (password: string) => string = (p) => p) {
  const m = BCRYPT.exec(hash);
  if (!m || Number(m[1]) < 4 || Number(m[1]) > LEGACY_LIMITS.bcryptMaxCost) return undefined;
  // bcrypt compares its own output; the 72-byte limit is bcrypt's, the same as the system that made it
  return async (password: string) => bcrypt.compare(transform(password), hash);
}

/** PHC argon2: the parameters m, t, p in any order (argon2-cffi writes m,t,p; node-argon2 m,p,t). */
const ARGON2 = new RegExp(`^\\$argon2(id|i|d)\\$(?:v=(\\d+)\\$)?([a-z]=\\d+(?:,[a-z]=\\d+){2})\\$${B64}+\\$${B64}+$`);
function argon2Check(hash: string) {
  const m = ARGON2.exec(hash);
  if (!m) return undefined;
  const params = Object.fromEntries(m[3]!.split(',').map((kv) => kv.split('=') as [string, string]));
  const [memory, time, lanes] = [Number(params.m), Number(params.t), Number(params.p)];
  if (!(memory >= 1 && time >= 1 && lanes >= 1)) return undefined;
  if (memory > LEGACY_LIMITS.argon2MaxMemoryKiB || time > LEGACY_LIMITS.argon2MaxTime || lanes > LEGACY_LIMITS.argon2MaxParallelism) return undefined;
  if (memory * time > LEGACY_LIMITS.argon2MaxWorkKiB) return undefined;
  return async (password: string) => {
    try { return await argon2.verify(hash, password); } catch { return false; }
  };
}

const hex = (digest: string) => (password: string) => createHash(digest).update(password, 'utf8').digest();

type Parser = (stored: string) => LegacyHash | undefined;

const make = (format: string, family: HashFamily, verify: ((p: string) => Promise<boolean>) | undefined, unsalted = false): LegacyHash | undefined =>
  verify ? { format, family, unsalted, verify } : undefined;

const PASSLIB_PBKDF2 = new RegExp(`^\\$pbkdf2(-sha256|-sha512)?\\$(\\d+)\\$(${B64}*)\\$(${B64}+)$`);
const DJANGO_PBKDF2 = /^pbkdf2_(sha256|sha1)\$(\d+)\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;
const DJANGO_SCRYPT = /^scrypt\$(\d+)\$([^$]+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})$/;
const PHC_SCRYPT = new RegExp(`^\\$scrypt\\$ln=(\\d+),r=(\\d+),p=(\\d+)\\$(${B64}+)\\$(${B64}+)$`);
const UNSALTED: Record<number, 'md5' | 'sha1' | 'sha256'> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** The parsers, most specific first; the first that recognises a hash decides. */
const PARSERS: Parser[] = [
  (s) => s.startsWith('$argon2') ? make(`argon2${s.split('$')[1]!.slice('argon2'.length)}`, 'argon2', argon2Check(s)) : undefined,
  (s) => s.startsWith('$2') ? make('bcrypt', 'bcrypt', bcryptCheck(s)) : undefined,
  (s) => {
    const m = PASSLIB_PBKDF2.exec(s);
    if (!m) return undefined;
    const digest = m[1] === '-sha512' ? 'sha512' : m[1] === '-sha256' ? 'sha256' : 'sha1';
    return make(`passlib-pbkdf2-${digest}`, 'pbkdf2', pbkdf2Check(digest, Number(m[2]), ab64(m[3]!), ab64(m[4]!)));
  },
  (s) => {
    const m = DJANGO_PBKDF2.exec(s);
    if (!m) return undefined;
    // Django hashes with the salt string's UTF-8 bytes, not a decoded salt
    return make(`django-pbkdf2_${m[1]}`, 'pbkdf2', pbkdf2Check(m[1] as 'sha1' | 'sha256', Number(m[2]), Buffer.from(m[3]!, 'utf8'), Buffer.from(m[4]!, 'base64')));
  },
  // Django's BCryptSHA256PasswordHasher: bcrypt over the hex SHA-256 of the password (no 72-byte cut)
  (s) => s.startsWith('bcrypt_sha256$') ? make('django-bcrypt_sha256', 'bcrypt', bcryptCheck(s.slice('bcrypt_sha256$'.length), (p) => hex('sha256')(p).toString('hex'))) : undefined,
  (s) => s.startsWith('bcrypt$') ? make('django-bcrypt', 'bcrypt', bcryptCheck(s.slice('bcrypt$'.length))) : undefined,
  // Django's Argon2PasswordHasher stores 'argon2' + the PHC string
  (s) => s.startsWith('argon2$argon2') ? make('django-argon2', 'argon2', argon2Check(s.slice('argon2'.length))) : undefined,
  (s) => {
    const m = DJANGO_SCRYPT.exec(s);
    if (!m) return undefined;
    return make('django-scrypt', 'scrypt', scryptCheck(Number(m[1]), Number(m[3]), Number(m[4]), Buffer.from(m[2]!, 'utf8'), Buffer.from(m[5]!, 'base64')));
  },
  (s) => {
    const m = PHC_SCRYPT.exec(s);
    if (!m || Number(m[1]) > LEGACY_LIMITS.scryptMaxLogN) return undefined;
    return make('scrypt', 'scrypt', scryptCheck(2 ** Number(m[1]), Number(m[2]), Number(m[3]), ab64(m[4]!), ab64(m[5]!)));
  },
  (s) => s.startsWith('{') ? parseKeycloak(s) : undefined,
  (s) => {
    const digest = /^[0-9a-fA-F]+$/.test(s) ? UNSALTED[s.length] : undefined;
    if (!digest) return undefined;
    const expected = Buffer.from(s, 'hex');
    return make(digest, 'unsalted', async (p) => sameBytes(hex(digest)(p), expected), true);
  },
];

const KEYCLOAK_DIGESTS: Record<string, 'sha1' | 'sha256' | 'sha512'> = { pbkdf2: 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' };

/** A JSON value that Keycloak's export may give as an object or as a JSON string of one. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try { value = JSON.parse(value); } catch { return undefined; }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

/**
 * Keycloak's password credential: `credentialData` {hashIterations, algorithm} and `secretData`
 * {value, salt} (both base64; each may be a JSON string, as in a realm export). The derived key
 * length is the stored value's (Keycloak's default is 512 bits).
 */
function parseKeycloak(stored: string): LegacyHash | undefined {
  const outer = objectOf(stored);
  const data = objectOf(outer?.credentialData);
  const secret = objectOf(outer?.secretData);
  if (!data || !secret) return undefined;
  const algorithm = String(data.algorithm);
  const digest = Object.hasOwn(KEYCLOAK_DIGESTS, algorithm) ? KEYCLOAK_DIGESTS[algorithm] : undefined; // never a prototype's key
  const iterations = Number(data.hashIterations);
  if (!digest || !Number.isInteger(iterations) || typeof secret.value !== 'string' || typeof secret.salt !== 'string') return undefined;
  return make(`keycloak-${data.algorithm}`, 'pbkdf2', pbkdf2Check(digest, iterations, Buffer.from(secret.salt, 'base64'), Buffer.from(secret.value, 'base64')));
}

/** What `stored` is, or undefined when no supported format (or its parameters are out of bounds). */
export function parseLegacyHash(stored: string): LegacyHash | undefined {
  if (stored.length === 0 || stored.length > 4096) return undefined;
  for (const parse of PARSERS) {
    const found = parse(stored);
    if (found) return found;
  }
  return undefined;
}

/** True when `password` matches `stored`; false for a wrong password and for anything unrecognised. */
export async function verifyLegacyHash(stored: string, password: string): Promise<boolean> {
  const hash = parseLegacyHash(stored);
  if (!hash) return false;
  try { return await hash.verify(password); } catch { return false; }
}

/** Unsalted fast hashes: accepted only when the operator allows them, and then a new password is due. */
export const isUnsaltedHash = (stored: string): boolean => parseLegacyHash(stored)?.unsalted === true;
