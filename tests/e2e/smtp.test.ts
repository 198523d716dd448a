// Mail through a real SMTP server (a local sink): SMTP_URL set, nodemailer delivers over TCP.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startServer, type TestServer } from '../support/server.ts';
import { Agent } from '../../harness/http-agent.ts';

const received: Array<{ from: string; to: string[]; data: string }> = [];
let sink: SMTPServer;
let gh: TestServer;

beforeAll(async () => {
  sink = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => { data += c.toString('utf8'); });
      stream.on('end', () => {
        received.push({ from: String(session.envelope.mailFrom && session.envelope.mailFrom.address), to: session.envelope.rcptTo.map((r) => r.address), data });
        done();
      });
    },
  });
  sink.listen(0, '127.0.0.1');
  await once(sink.server, 'listening');
  const port = (sink.server.address() as AddressInfo).port;
  gh = await startServer({ env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Gatehouse <id@example.test>' } });
  await gh.cliJson(['users', 'create', '--email', 'smtp@example.test', '--password', 'mail relay pass phrase 42']);
});
afterAll(async () => {
  await gh?.destroy();
  await new Promise<void>((r) => sink.close(() => r()));
});

it('delivers the password-reset mail over SMTP and writes nothing to the outbox', async () => {
  const agent = new Agent();
  const form = await agent.go(`${gh.issuer}/account/forgot`);
  await agent.submit(form, '/account/forgot', { email: 'smtp@example.test' });
  for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(received).toHaveLength(1);
  expect(received[0]!.from).toBe('id@example.test');
  expect(received[0]!.to).toEqual(['smtp@example.test']);
  expect(received[0]!.data.replace(/=\r?\n/g, '')).toMatch(/\/account\/reset\?token=[A-Za-z0-9_-]{43}/);
  const { existsSync } = await import('node:fs');
  expect(existsSync(`${gh.dataDir}/outbox`)).toBe(false);
});
