// Mail through a real SMTP server (a local sink): SMTP_URL set, nodemailer delivers over TCP.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startServer, type TestServer } from '../support/server.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { Agent } from '../../harness/http-agent.ts';

let sink: SmtpSink;
let gh: TestServer;

beforeAll(async () => {
  sink = await startSmtpSink();
  gh = await startServer({ env: { SMTP_URL: sink.url, MAIL_FROM: 'Gatehouse <id@example.test>' } });
  await gh.cliJson(['users', 'create', '--email', 'smtp@example.test', '--password', 'mail relay pass phrase 42']);
});
afterAll(async () => {
  await gh?.destroy();
  await sink?.stop();
});

it('delivers the password-reset mail over SMTP and writes nothing to the outbox', async () => {
  const agent = new Agent();
  const form = await agent.go(`${gh.issuer}/account/forgot`);
  await agent.submit(form, '/account/forgot', { email: 'smtp@example.test' });
  for (let i = 0; i < 50 && sink.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(sink.received).toHaveLength(1);
  expect(sink.received[0]!.from).toBe('id@example.test');
  expect(sink.received[0]!.to).toEqual(['smtp@example.test']);
  expect(sink.received[0]!.data.replace(/=\r?\n/g, '')).toMatch(/\/account\/reset\?token=[A-Za-z0-9_-]{43}/);
  const { existsSync } = await import('node:fs');
  expect(existsSync(`${gh.dataDir}/outbox`)).toBe(false);
});
