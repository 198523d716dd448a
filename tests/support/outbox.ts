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
