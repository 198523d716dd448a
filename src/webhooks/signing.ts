// Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of
// random bytes; each request carries webhook-id, webhook-timestamp and webhook-signature
// (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). We sign with the `standardwebhooks` package,
// the reference implementation receivers verify with, so the two cannot drift apart.
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** 32 bytes: the spec asks for 24 to 64; 256 bits matches the HMAC-SHA256 key size. */
const SECRET_BYTES = 32;
export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** A message id, the webhook-id header: unique per message, kept across its retries. */
export function newMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

export interface SignedHeaders { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string }

export function signedHeaders(secret: string, messageId: string, at: Date, body: string): SignedHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
  };
}
