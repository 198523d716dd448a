// Password hashes made by code we did not write (issue 15): Debian's Python with passlib, bcrypt and
// argon2-cffi, and the standard library's hashlib for the formats those systems build by hand.
// Never Gatehouse's own code: a hash our verifier accepts must be one the real system produced.
// - fastapi-users: pwdlib's argon2id defaults (argon2-cffi, t=3, m=65536, p=4) or bcrypt ($2b$12$).
// - Django: passlib's django_* handlers replicate Django's hashers byte for byte; Django's scrypt
//   (4.0+) is built here with hashlib.scrypt exactly as django/contrib/auth/hashers.py does:
//   "scrypt$<N>$<salt>$<r>$<p>$<b64 of 64 bytes>", the salt string's UTF-8 bytes as salt.
// - Keycloak: Pbkdf2PasswordHashProvider does PBKDF2WithHmacSHA256/512/SHA1 over the password's UTF-8
//   with a 16-byte random salt and a 512-bit key, and exports credentialData and secretData as JSON
//   strings inside the credential; built here with hashlib.pbkdf2_hmac the same way.
// - Auth0: bcrypt $2b$10$ (python bcrypt).
import { execFileSync } from 'node:child_process';
import { PYTHON } from './env.ts';

export const LEGACY_FORMATS = [
  'argon2id', 'argon2i', 'argon2d', 'bcrypt-2a', 'bcrypt-2b', 'bcrypt-2y',
  'passlib-pbkdf2-sha1', 'passlib-pbkdf2-sha256', 'passlib-pbkdf2-sha512',
  'django-pbkdf2_sha256', 'django-pbkdf2_sha1', 'django-bcrypt_sha256', 'django-argon2', 'django-scrypt',
  'keycloak-pbkdf2-sha256', 'keycloak-pbkdf2-sha512', 'keycloak-pbkdf2',
  'passlib-scrypt', 'phc-scrypt', 'md5', 'sha1', 'sha256',
] as const;
export type LegacyFormat = (typeof LEGACY_FORMATS)[number];

const SCRIPT = String.raw`
import base64, hashlib, json, os, secrets, sys, warnings
warnings.filterwarnings('ignore')
import bcrypt
from argon2 import PasswordHasher, low_level
from passlib import hash as ph

def b64(raw): return base64.b64encode(raw).decode()
def keycloak(alg, digest, iterations, pw):
    salt = os.urandom(16)
    value = hashlib.pbkdf2_hmac(digest, pw.encode(), salt, iterations, dklen=64)
    return json.dumps({'type': 'password', 'createdDate': 1700000000000,
        'secretData': json.dumps({'value': b64(value), 'salt': b64(salt), 'additionalParameters': {}}),
        'credentialData': json.dumps({'hashIterations': iterations, 'algorithm': alg, 'additionalParameters': {}})})
def django_scrypt(pw):
    salt = secrets.token_urlsafe(16)[:22]
    h = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=2**14, r=8, p=1, maxmem=0, dklen=64)
    return 'scrypt$%d$%s$%d$%d$%s' % (2**14, salt, 8, 1, b64(h))
def phc_scrypt(pw):
    salt = os.urandom(16)
    h = hashlib.scrypt(pw.encode(), salt=salt, n=2**14, r=8, p=2, maxmem=0, dklen=32)
    return '$scrypt$ln=14,r=8,p=2$%s$%s' % (b64(salt).rstrip('='), b64(h).rstrip('='))
def raw_argon2(kind, pw):
    return low_level.hash_secret(pw.encode(), os.urandom(16), time_cost=2, memory_cost=4096, parallelism=2, hash_len=32, type=kind).decode()

MAKERS = {
    'argon2id': lambda pw: PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(pw),
    'argon2i': lambda pw: raw_argon2(low_level.Type.I, pw),
    'argon2d': lambda pw: raw_argon2(low_level.Type.D, pw),
    'bcrypt-2a': lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10, prefix=b'2a')).decode(),
    'bcrypt-2b': lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10)).decode(),
    'bcrypt-2y': lambda pw: ph.bcrypt.using(ident='2y', rounds=10).hash(pw),
    'passlib-pbkdf2-sha1': lambda pw: ph.pbkdf2_sha1.hash(pw),
    'passlib-pbkdf2-sha256': lambda pw: ph.pbkdf2_sha256.hash(pw),
    'passlib-pbkdf2-sha512': lambda pw: ph.pbkdf2_sha512.hash(pw),
    'django-pbkdf2_sha256': lambda pw: ph.django_pbkdf2_sha256.using(rounds=870000).hash(pw),
    'django-pbkdf2_sha1': lambda pw: ph.django_pbkdf2_sha1.hash(pw),
    'django-bcrypt_sha256': lambda pw: ph.django_bcrypt_sha256.using(rounds=10).hash(pw),
    'django-argon2': lambda pw: ph.django_argon2.using(type='ID', memory_cost=102400, rounds=2, parallelism=8).hash(pw),
    'django-scrypt': django_scrypt,
    'keycloak-pbkdf2-sha256': lambda pw: keycloak('pbkdf2-sha256', 'sha256', 27500, pw),
    'keycloak-pbkdf2-sha512': lambda pw: keycloak('pbkdf2-sha512', 'sha512', 210000, pw),
    'keycloak-pbkdf2': lambda pw: keycloak('pbkdf2', 'sha1', 20000, pw),
    'passlib-scrypt': lambda pw: ph.scrypt.using(rounds=14).hash(pw),
    'phc-scrypt': phc_scrypt,
    'md5': lambda pw: hashlib.md5(pw.encode()).hexdigest(),
    'sha1': lambda pw: hashlib.sha1(pw.encode()).hexdigest(),
    'sha256': lambda pw: hashlib.sha256(pw.encode()).hexdigest(),
}
print(json.dumps([MAKERS[f](pw) for f, pw in json.load(sys.stdin)]))
`;

/** One hash per [format, password], made by Debian's Python (passlib, bcrypt, argon2-cffi, hashlib). */
export function legacyHashes(requests: ReadonlyArray<readonly [LegacyFormat, string]>): string[] {
  const out = execFileSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as string[];
}

/** Runs a Python snippet with Debian's Python; stdin in, stdout out. */
export function python(code: string, input = ''): string {
  return execFileSync(PYTHON, ['-c', code], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}
