// The operator's import and export (`gatehouse users import|export`, src/cli/users-transfer.ts).
// Arguments come from the CLI in this process or over the control socket (JSON), so each is
// checked here. The file is read by the process that runs the operation: the CLI, or the server
// holding the embedded database on the same host (the socket is the operator's, mode 0600).
import { readFile, writeFile } from 'node:fs/promises';
import { badRequest } from '../errors/app-error.ts';
import type { ImportService } from '../transfer/import.service.ts';
import type { ExportService } from '../transfer/export.service.ts';
import { detectFormat, FILE_FORMATS, parseRecords, type FileFormat } from '../transfer/parse.ts';

export interface TransferOperationDeps { userImport: ImportService; userExport: ExportService }

type Args = Record<string, unknown>;

/** Changes made from the operator CLI carry no actor: they are the operator's, on the host. */
const OPERATOR_ORIGIN = { actorId: null, ip: null, userAgent: 'gatehouse CLI' };

function formatOf(v: unknown, allowed: readonly FileFormat[]): FileFormat | undefined {
  if (v === undefined || v === null) return undefined;
  if (!allowed.includes(v as FileFormat)) throw badRequest(`format must be one of ${allowed.join(', ')}`);
  return v as FileFormat;
}

async function readSource(a: Args): Promise<{ text: string; name?: string }> {
  if (typeof a.text === 'string') return { text: a.text };
  if (typeof a.path !== 'string' || a.path === '') throw badRequest('the file to import is required');
  try {
    return { text: await readFile(a.path, 'utf8'), name: a.path };
  } catch (e) {
    throw badRequest(`cannot read ${a.path}: ${(e as { code?: string }).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export const transferOperations: Record<string, (c: TransferOperationDeps, args: Args) => Promise<unknown>> = {
  'users.import': async (c, a) => {
    const { text, name } = await readSource(a);
    const format = formatOf(a.format, FILE_FORMATS) ?? detectFormat(text, name);
    return c.userImport.importRecords(parseRecords(text, format), {
      update: !!a.update, dryRun: !!a.dry_run, atomic: !!a.atomic, allowUnsaltedHashes: !!a.allow_unsalted_hashes, ...OPERATOR_ORIGIN,
      // in this process only (a function does not cross the control socket)
      onProgress: typeof a.onProgress === 'function' ? a.onProgress as (done: number, total: number) => void : undefined,
    });
  },
  /** Writes to `path` or to `write` (in this process), else returns the file as `text`. */
  'users.export': async (c, a) => {
    const format = formatOf(a.format, ['jsonl', 'csv']) as 'jsonl' | 'csv' | undefined;
    const lines = c.userExport.lines({ format, withPasswordHashes: !!a.with_password_hashes, withTotpSecrets: !!a.with_totp_secrets, ...OPERATOR_ORIGIN });
    const write = typeof a.write === 'function' ? a.write as (chunk: string) => Promise<void> : undefined;
    let users = format === 'csv' ? -1 : 0; // the CSV header is not a user
    const parts: string[] = [];
    for await (const line of lines) {
      users++;
      if (write) await write(line); else parts.push(line);
    }
    if (write) return { users };
    if (typeof a.path === 'string' && a.path !== '') {
      await writeFile(a.path, parts.join(''), { mode: 0o600 });
      return { users, path: a.path };
    }
    return { users, text: parts.join('') };
  },
};
