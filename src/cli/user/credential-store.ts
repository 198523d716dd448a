// The signed-in user's credentials: $XDG_CONFIG_HOME/gatehouse/credentials.json (default
// ~/.config), one entry per profile, readable by the user alone (file 0600, folder 0700). Writes go
// to a temporary file renamed into place, so a reader never sees half a file; a lock file keeps two
// commands from refreshing at once (a rotated refresh token used twice would end the session).
import { closeSync, chmodSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { CliError } from '../errors.ts';

export interface Credentials {
  issuer: string;
  client_id: string;
  scope?: string;
  token_type: string;
  access_token: string;
  /** seconds since the epoch; absent when the issuer did not say */
  expires_at?: number;
  refresh_token?: string;
  /** the subject from the ID token, so userinfo answers can be checked against it */
  sub?: string;
  saved_at: string;
}

interface CredentialsFile {
  version: 1;
  profiles: Record<string, Credentials>;
}

export const DEFAULT_PROFILE = 'default';
const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Long enough for a refresh round trip; a lock older than this was left by a killed process. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 15_000;
const LOCK_POLL_MS = 50;

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new CliError(`--profile must be 1–64 letters, digits, ".", "_" or "-" (got "${name}").`, 2);
  return name;
}

/** XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'gatehouse');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'credentials.json');
}

function readFile(): CredentialsFile {
  const path = credentialsPath();
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, profiles: {} };
    throw new CliError(`Cannot read ${path} (${(e as NodeJS.ErrnoException).code}): check its permissions.`);
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (parsed?.version !== 1 || typeof parsed.profiles !== 'object' || parsed.profiles === null) throw new Error('shape');
    return parsed;
  } catch {
    throw new CliError(`${path} is damaged: delete it and run gatehouse login again.`);
  }
}

function writeFile(file: CredentialsFile): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // the folder may predate us with looser permissions
  const path = credentialsPath();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readProfile(profile: string): Credentials | undefined {
  return readFile().profiles[profile];
}

export function saveProfile(profile: string, credentials: Credentials): void {
  const file = readFile();
  file.profiles[profile] = credentials;
  writeFile(file);
}

export function deleteProfile(profile: string): boolean {
  const file = readFile();
  if (!(profile in file.profiles)) return false;
  delete file.profiles[profile];
  writeFile(file);
  return true;
}

/** Runs fn while holding credentials.json.lock (shared by every gatehouse process of this user). */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, 'credentials.json.lock');
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) { unlinkSync(lock); continue; }
      } catch { continue; } // released meanwhile
      if (Date.now() > until) throw new CliError(`Another gatehouse command is updating ${credentialsPath()}: try again in a moment (or delete ${lock} if none is running).`);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(lock); } catch { /* already gone */ }
  }
}
