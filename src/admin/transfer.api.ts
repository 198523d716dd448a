// The admin API's bulk user import and export (issue 15), beside the CLI's `gatehouse users
// import|export` with the same options and the same report:
//   POST /api/admin/users/import   JSON Lines, CSV or a JSON array of users; ?update&dry_run&atomic&allow_unsalted_hashes
//   GET  /api/admin/users/export   JSON Lines or CSV; ?with_password_hashes (audited as users.exported)
// Admin role + admin scope (src/admin/require-admin.ts). The body limit is IMPORT_BODY_LIMIT_BYTES:
// larger files go through the CLI, which reads them from disk.
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { auth, type BearerDeps } from '../api/bearer-auth.ts';
import { guard, guarded } from '../http/guard.ts';
import { requestOrigin } from '../audit/audit.ts';
import { addPaths } from '../api/openapi.ts';
import { AppError } from '../errors/app-error.ts';
import type { ImportService } from '../transfer/import.service.ts';
import type { ExportService } from '../transfer/export.service.ts';
import { parseRecords, type FileFormat } from '../transfer/parse.ts';
import { TRANSFER_PATHS } from './transfer.openapi.ts';
import { requireAdmin } from './require-admin.ts';

/** 50 MiB: about 100,000 users with bcrypt hashes and a workspace each. */
export const IMPORT_BODY_LIMIT_BYTES = 50 * 1024 * 1024;

/** What a body's Content-Type says it is. */
const MEDIA_TYPES: Record<string, FileFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/jsonlines': 'jsonl',
  'text/csv': 'csv',
};

const flag = z.enum(['true', 'false', '1', '0', '']).optional().transform((v) => v === 'true' || v === '1' || v === '');
const importQuery = z.object({ update: flag, dry_run: flag, atomic: flag, allow_unsalted_hashes: flag }).strict();
const exportQuery = z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl'), with_password_hashes: flag, with_totp_secrets: flag }).strict();

async function readBody(ctx: Context): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > IMPORT_BODY_LIMIT_BYTES) throw new AppError(413, 'payload_too_large', `The file is larger than ${IMPORT_BODY_LIMIT_BYTES / 1024 / 1024} MiB: import it with the CLI (gatehouse users import FILE).`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > IMPORT_BODY_LIMIT_BYTES) throw new AppError(413, 'payload_too_large', `The file is larger than ${IMPORT_BODY_LIMIT_BYTES / 1024 / 1024} MiB: import it with the CLI (gatehouse users import FILE).`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.includes('\uFFFD')) throw new AppError(400, 'invalid_body', 'The file is not valid UTF-8.');
  return text;
}

export interface TransferApiDeps extends BearerDeps { userImport: ImportService; userExport: ExportService }

/** Mounted under /api before the admin router (whose /admin/users/:id would otherwise take /admin/users/export). */
export function createTransferApiRouter(deps: TransferApiDeps): Router {
  addPaths(TRANSFER_PATHS);
  const router = new Router({ prefix: '/admin/users' });
  const gate = requireAdmin({ oidc: deps.oidc, accounts: deps.accounts });
  const origin = (ctx: Context) => ({ actorId: auth(ctx).accountId, ...requestOrigin(ctx) });

  router.post('/import', gate, guard({ query: importQuery }), async (ctx) => {
    const format = MEDIA_TYPES[ctx.request.type];
    if (!format) throw new AppError(415, 'unsupported_media_type', 'Send the users as application/x-ndjson (JSON Lines), application/json (an array) or text/csv.');
    const q = guarded(ctx, { query: importQuery }).query;
    const records = parseRecords(await readBody(ctx), format);
    ctx.body = await deps.userImport.importRecords(records, {
      update: q.update, dryRun: q.dry_run, atomic: q.atomic, allowUnsaltedHashes: q.allow_unsalted_hashes, ...origin(ctx),
    });
  });

  router.get('/export', gate, guard({ query: exportQuery }), async (ctx) => {
    const q = guarded(ctx, { query: exportQuery }).query;
    const lines = deps.userExport.lines({ format: q.format, withPasswordHashes: q.with_password_hashes, withTotpSecrets: q.with_totp_secrets, ...origin(ctx) });
    // the whole file, then the answer: a store failure halfway is a 503, never a cut-off file that looks complete
    const parts: string[] = [];
    for await (const line of lines) parts.push(line);
    ctx.type = q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="users.${q.format}"`);
    ctx.body = parts.join('');
  });
  return router;
}
