// Structured logs (pino). Secrets never reach a log line: these paths are removed wherever they appear.
import pino, { type Logger } from 'pino';

const REDACT = [
  'password', '*.password', 'client_secret', '*.client_secret', 'code', '*.code', 'token', '*.token',
  'access_token', 'refresh_token', 'id_token', 'req.headers.authorization', 'req.headers.cookie', 'headers.cookie', 'headers.authorization',
];

/**
 * Lines go to stdout through an asynchronous buffer, not one synchronous write(2) each: when the
 * reader of the pipe (a container runtime, a log shipper) falls behind, a synchronous logger waits
 * for it on every request, and the bench measured that costing more than the whole JWKS request.
 * Here the lines of many requests leave in one write, at least every LOG_FLUSH_MS; a reader that
 * stops altogether costs at most LOG_BUFFER_MAX_BYTES of memory (later lines are dropped), and pino
 * flushes what is left when the process exits.
 */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 200;
const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: 'gatehouse' }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS, maxLength: LOG_BUFFER_MAX_BYTES }),
  );
}
