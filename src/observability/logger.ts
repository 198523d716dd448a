// Structured logs (pino). Secrets never reach a log line: these paths are removed wherever they appear.
// JSON lines wherever a program reads them (a pipe, a file, a container runtime, the tests, CI);
// on a terminal outside production, the same lines pretty-printed for a person (pino-pretty).
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

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

/** Pretty lines for a person: stdout is a terminal and this is not production. */
export function wantsPrettyLogs(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return stdout.isTTY === true && env.NODE_ENV !== 'production';
}

export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const options = { level, base: { service: 'gatehouse' }, redact: { paths: REDACT, censor: '[redacted]' } };
  if (opts.pretty ?? wantsPrettyLogs()) {
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service', sync: true }));
  }
  return pino(
    options,
    pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS, maxLength: LOG_BUFFER_MAX_BYTES }),
  );
}
