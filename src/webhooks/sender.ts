// One webhook HTTP request: POST the body with the Standard Webhooks headers to the address the
// policy checked (the connection is pinned to it through `lookup`, so DNS cannot swap it between
// the check and the connect; TLS still verifies the certificate against the URL's host name). No
// redirects are followed (node:http never does), the whole exchange has a deadline, and only the
// first RESPONSE_READ_CAP bytes of the answer are read.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.ts';
import { UnsafeWebhookUrl } from './address-policy.ts';
import { signedHeaders } from './signing.ts';

/** Bytes of a response we read at most; the rest is dropped with the connection. */
const RESPONSE_READ_CAP = 16 * 1024;
/** What the delivery log keeps of a response. */
export const RESPONSE_EXCERPT_CHARS = 1024;
const USER_AGENT = 'Gatehouse-Webhooks/1';

export interface SendInput { url: string; secret: string; messageId: string; body: string; at?: Date }

export type SendResult =
  | { kind: 'response'; status: number; latencyMs: number; excerpt: string; retryAfter: string | undefined }
  | { kind: 'error'; error: string; latencyMs: number; /** refused by the address policy: no request was made */ unsafe?: boolean };

export interface Sender { send(input: SendInput): Promise<SendResult> }

export function createSender(policy: AddressPolicy, timeoutMs: number): Sender {
  return {
    async send(input) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let target;
      try {
        target = await policy.resolve(policy.checkUrl(input.url));
      } catch (err) {
        return { kind: 'error', error: (err as Error).message, latencyMs: elapsed(), unsafe: err instanceof UnsafeWebhookUrl };
      }
      const pinned: LookupFunction = (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
        else callback(null, target.address, target.family);
      };
      const headers = {
        ...signedHeaders(input.secret, input.messageId, input.at ?? new Date(), input.body),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(input.body)),
        'user-agent': USER_AGENT,
      };
      const lib = target.url.protocol === 'https:' ? https : http;
      return new Promise<SendResult>((resolve) => {
        let settled = false;
        const done = (r: SendResult) => { if (!settled) { settled = true; clearTimeout(deadline); resolve(r); } };
        const req = lib.request(target.url, { method: 'POST', headers, lookup: pinned, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          let read = 0;
          const finish = () => {
            req.destroy();
            done({
              kind: 'response', status: res.statusCode ?? 0, latencyMs: elapsed(),
              excerpt: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_EXCERPT_CHARS),
              retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined,
            });
          };
          res.on('data', (chunk: Buffer) => {
            if (read < RESPONSE_READ_CAP) chunks.push(chunk.subarray(0, RESPONSE_READ_CAP - read));
            read += chunk.length;
            if (read >= RESPONSE_READ_CAP) finish();
          });
          res.on('end', finish);
          res.on('error', finish);
        });
        const deadline = setTimeout(() => {
          req.destroy();
          done({ kind: 'error', error: `no response within ${timeoutMs / 1000} s`, latencyMs: elapsed() });
        }, timeoutMs);
        req.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'error', error: err.code ? `${err.code}: ${err.message}` : err.message, latencyMs: elapsed() }));
        req.end(input.body);
      });
    },
  };
}
