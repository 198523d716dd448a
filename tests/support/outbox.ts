// Reads the dev outbox (one .eml per message in <data dir>/outbox/).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function messagesTo(dataDir: string, to: string): string[] {
  let files: string[] = [];
  try { files = readdirSync(join(dataDir, 'outbox')).sort(); } catch { return []; }
  return files.map((f) => decodeQuotedPrintable(readFileSync(join(dataDir, 'outbox', f), 'utf8')))
    .filter((m) => new RegExp(`^To: .*${to.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'mi').test(m));
}

export function lastCodeFor(dataDir: string, to: string): string | undefined {
  const all = messagesTo(dataDir, to);
  const m = /verification code is:\s*(\d{6})/.exec(all.at(-1) ?? '');
  return m?.[1];
}

/** Undo quoted-printable soft line breaks and escapes, so tests can search the text. */
function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Waits until at least `count` messages to `to` are in the outbox, and returns them all. Mail that
 * depends on whether an account exists (reset, sign-up, email change) is sent after the answer
 * (Mailer.later), so a test reads it only once it is there.
 */
export async function waitForMessages(dataDir: string, to: string, count = 1, timeoutMs = 10_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const all = messagesTo(dataDir, to);
    if (all.length >= count || Date.now() > until) return all;
    await new Promise((r) => setTimeout(r, 25));
  }
}
