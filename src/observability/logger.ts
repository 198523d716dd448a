// Structured logs (pino). Secrets never reach a log line: these paths are removed wherever they appear.
import pino, { type Logger } from 'pino';

const REDACT = [
  'password', '*.password', 'client_secret', '*.client_secret', 'code', '*.code', 'token', '*.token',
  'access_token', 'refresh_token', 'id_token', 'req.headers.authorization', 'req.headers.cookie', 'headers.cookie', 'headers.authorization',
];

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'gatehouse' }, redact: { paths: REDACT, censor: '[redacted]' } });
}
