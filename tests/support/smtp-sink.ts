// A local SMTP server that keeps what it is sent, for the suites that deliver mail over real SMTP
// (SMTP_URL set). `stallMs` makes it sit on each message before accepting it (a slow relay).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { stopAtTeardown } from './leftovers.ts';

export interface ReceivedMail { from: string; to: string[]; data: string }

export interface SmtpSink {
  /** smtp://127.0.0.1:<port>, for SMTP_URL */
  url: string;
  received: ReceivedMail[];
  stop(): Promise<void>;
}

export async function startSmtpSink(opts: { stallMs?: number } = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => { data += c.toString('utf8'); });
      stream.on('end', () => setTimeout(() => {
        received.push({ from: String(session.envelope.mailFrom && session.envelope.mailFrom.address), to: session.envelope.rcptTo.map((r) => r.address), data });
        done();
      }, opts.stallMs ?? 0));
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const stop = () => new Promise<void>((r) => server.close(() => r()));
  const forget = stopAtTeardown(stop);
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    async stop() { forget(); await stop(); },
  };
}
