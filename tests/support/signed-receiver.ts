// A webhook receiver as an app would write it: a real HTTP server that verifies every request with
// the `standardwebhooks` library (code we did not write) against the secret it was given, and keeps
// what it accepted and what it refused. Its answer can be switched (e.g. 500 to make deliveries fail).
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { stopAtTeardown } from './leftovers.ts';

export interface Received {
  path: string;
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

export interface SignedReceiver {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** the secret of each path, e.g. set('/hooks', 'whsec_…') */
  secrets: Map<string, string>;
  /** verified messages answered 2xx, in arrival order */
  accepted: Received[];
  /** verified messages answered otherwise (the path's status was set to fail) */
  failed: Received[];
  /** requests whose signature, timestamp or secret did not verify: the error message of each */
  refused: Array<{ path: string; reason: string }>;
  /** the status each path answers (default 204) */
  status: Map<string, number>;
  /** resolves once `predicate` holds for the accepted list (polls), or rejects after `ms` */
  waitFor(predicate: (accepted: Received[]) => boolean, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

const WAIT_MS = 15_000;

export async function startSignedReceiver(): Promise<SignedReceiver> {
  const accepted: Received[] = [];
  const failed: Received[] = [];
  const refused: SignedReceiver['refused'] = [];
  const secrets = new Map<string, string>();
  const status = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const raw = Buffer.concat(chunks).toString('utf8');
      const secret = secrets.get(path);
      let message: Received;
      try {
        if (!secret) throw new Error('no secret for this path');
        const body = new Webhook(secret).verify(raw, req.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };
        message = { path, id: String(req.headers['webhook-id']), type: body.type, timestamp: body.timestamp, data: body.data, headers: req.headers };
      } catch (e) {
        refused.push({ path, reason: (e as Error).message });
        res.writeHead(400, { 'content-type': 'text/plain' }).end('signature did not verify');
        return;
      }
      const code = status.get(path) ?? 204;
      (code < 300 ? accepted : failed).push(message);
      res.writeHead(code, { 'content-type': 'text/plain' }).end(code === 204 ? undefined : `answer ${code} from the test receiver`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  const forget = stopAtTeardown(close);
  return {
    origin, secrets, accepted, failed, refused, status,
    async waitFor(predicate, ms = WAIT_MS) {
      const until = Date.now() + ms;
      while (!predicate(accepted)) {
        if (Date.now() > until) throw new Error(`the receiver did not get what was expected within ${ms} ms; accepted: ${JSON.stringify(accepted.map((a) => [a.path, a.type, a.data]))}; refused: ${JSON.stringify(refused)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return accepted;
    },
    async close() { forget(); await close(); },
  };
}
