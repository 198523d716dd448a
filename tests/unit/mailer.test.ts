import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createMailer } from '../../src/mail/mailer.ts';
import { createViews } from '../../src/render/views.ts';

describe('dev outbox mailer', () => {
  it('writes one .eml per message with text and HTML parts, for every template', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gh-mail-'));
    try {
      const mailer = createMailer({ from: 'Gatehouse <no-reply@test>', dataDir, views: createViews({ cache: false }), log: pino({ level: 'silent' }) });
      await mailer.send({ to: 'a@example.test', template: 'signup-code', subject: 'Your code: 123456', data: { code: '123456', name: 'A <b>', minutes: 15 } });
      await mailer.send({ to: 'b@example.test', template: 'signup-existing', subject: 'Someone tried', data: { issuer: 'http://localhost:3000' } });
      const files = readdirSync(join(dataDir, 'outbox')).sort();
      expect(files).toHaveLength(2);
      const first = readFileSync(join(dataDir, 'outbox', files[0]!), 'utf8');
      expect(first).toMatch(/^To: a@example\.test/m);
      expect(first).toContain('text/plain');
      expect(first).toContain('text/html');
      expect(first).toContain('verification code is: 123456');
      expect(first).toContain('A &lt;b&gt;'); // the HTML part escapes what a user typed
      expect(readFileSync(join(dataDir, 'outbox', files[1]!), 'utf8')).toContain('already has an account');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
