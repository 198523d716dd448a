// The control socket: a Unix socket (mode 0600) in the data folder through which a running server
// runs operator commands for the CLI, since only one process may open an embedded database.
import { createServer, request, type Server } from 'node:http';
import { chmodSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.ts';
import { runOperation, type OperationDeps } from './operations.ts';

const MAX_BODY_BYTES = 256 * 1024;

export function startControlServer(path: string, c: OperationDeps, log: Logger, after?: (op: string) => Promise<void>): Promise<Server> {
  try { unlinkSync(path); } catch { /* none left over */ }
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/ops\//, ''));
    let size = 0; const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => { size += d.length; if (size <= MAX_BODY_BYTES) chunks.push(d); });
    req.on('end', async () => {
      const reply = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
      try {
        const args = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        const result = await runOperation(c, name, args);
        await after?.(name);
        reply(200, { ok: true, result });
      } catch (e) {
        if (e instanceof AppError) return reply(e.status, { ok: false, error: { status: e.status, code: e.code, message: e.message } });
        log.error({ err: e, op: name }, 'control operation failed');
        reply(500, { ok: false, error: { status: 500, code: 'server_error', message: 'the operation failed; see the server log' } });
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { chmodSync(path, 0o600); resolve(server); });
  });
}

export function callControl(path: string, name: string, args: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: `/ops/${encodeURIComponent(name)}`, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (body.ok) resolve(body.result);
          else reject(new AppError(body.error.status, body.error.code, body.error.message));
        } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(args));
  });
}
