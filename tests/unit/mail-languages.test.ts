// Every mail in every shipped language: the subject and both bodies come from the mail catalog
// with no key missing, the brand's name and support link in the footer, and the language chosen as
// the recipient's own, else the request's (src/mail/mail-language.ts), else English.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createViews } from '../../src/render/views.ts';
import { createI18n, LANGUAGES } from '../../src/render/i18n.ts';
import { createMailer, type Mail } from '../../src/mail/mailer.ts';
import { withRequestLanguage } from '../../src/mail/mail-language.ts';

const i18n = createI18n();
const views = createViews({ cache: false, i18n, brand: { name: 'Acme Sign-in', supportUrl: 'https://help.acme.test/id' } });

const MAILS: Record<string, Record<string, unknown>> = {
  'verify-email': { code: '123456', link: 'https://id.test/account/verify-email?token=t', hours: 24 },
  'change-email': { code: '654321', link: 'https://id.test/account/email/confirm?token=t', minutes: 60 },
  'email-change-requested': { issuer: 'https://id.test', newEmail: 'new@example.test' },
  'email-changed': { issuer: 'https://id.test', newEmail: 'new@example.test' },
  invitation: { inviter: 'Grace', workspaceName: 'North', role: 'admin', days: 7, url: 'https://id.test/invitations/accept?token=t' },
  'password-changed': { issuer: 'https://id.test' },
  'password-set': { issuer: 'https://id.test' },
  'reset-password': { link: 'https://id.test/account/reset?token=t', minutes: 30 },
  'signup-code': { code: '111222', name: 'Ada', minutes: 15 },
  'signup-existing': { issuer: 'https://id.test' },
};

/** Quoted-printable runs decoded as UTF-8. */
const qp = (text: string) => text.replace(/(?:=[0-9A-F]{2})+/g, (run) => Buffer.from(run.replace(/=/g, ''), 'hex').toString('utf8'));

/** Sends through the dev outbox and reads back the raw message (headers and both parts). */
async function sent(mail: Mail, requestLang?: string): Promise<{ subject: string; raw: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mail-'));
  try {
    const mailer = createMailer({ from: 'id@example.test', dataDir: dir, views, log: pino({ level: 'silent' }) });
    await withRequestLanguage(() => requestLang, () => mailer.send(mail));
    const [file] = readdirSync(join(dir, 'outbox'));
    const eml = readFileSync(join(dir, 'outbox', file!), 'utf8');
    const raw = qp(eml.replace(/=\r?\n/g, ''));
    const folded = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(eml)![1]!;
    const subject = folded.replace(/\r?\n[ \t]/g, ' ').replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_, q: string) => qp(q.replace(/_/g, ' ')));
    return { subject, raw };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('mail templates', () => {
  it('the mail folder holds exactly the templates named here, each in text and HTML', () => {
    const names = readdirSync(join(import.meta.dirname, '../../views/mail')).filter((f) => f.endsWith('.eta'));
    expect(names.sort()).toEqual(Object.keys(MAILS).flatMap((t) => [`${t}.html.eta`, `${t}.txt.eta`]).sort());
  });

  it.each(LANGUAGES.flatMap((lang) => Object.keys(MAILS).map((template) => [lang, template] as const)))('%s %s: subject and body from the catalog, with the brand', async (lang, template) => {
    const before = new Set(i18n.missing());
    const { subject, raw } = await sent({ to: 'ada@example.test', template, data: MAILS[template]!, lang });
    expect(i18n.missing().filter((k) => !before.has(k))).toEqual([]);
    expect(subject).toBe(i18n.translator(lang)(`mail:${template}.subject`, { product: 'Acme Sign-in', ...MAILS[template] }));
    expect(subject).not.toMatch(/\{\{|\bmail:/);
    expect(raw).toMatch(new RegExp(`^Content-Language: ${lang}$`, 'm'));
    expect(raw).toContain(`<html lang="${lang}">`);
    expect(raw).toContain(i18n.translator(lang)('mail:footer.sentBy', { product: 'Acme Sign-in' }));
    expect(raw).toContain('https://help.acme.test/id');
    expect(raw).not.toMatch(/\{\{|\bmail:[a-z]/);
    for (const value of Object.values(MAILS[template]!)) if (typeof value === 'string' && value.startsWith('https://id.test/')) expect(raw).toContain(value);
  });
});

describe('the language of a mail', () => {
  const mail = { to: 'ada@example.test', template: 'password-changed', data: { issuer: 'https://id.test' } };

  it("is the recipient's own when known, whatever the request's", async () => {
    expect((await sent({ ...mail, lang: 'de-AT' }, 'fr')).subject).toBe('Ihr Passwort wurde geändert');
  });

  it("is the request's when the recipient's is unknown or not shipped", async () => {
    expect((await sent({ ...mail, lang: null }, 'fr')).subject).toBe('Votre mot de passe a été modifié');
    expect((await sent({ ...mail, lang: 'ja' }, 'de')).subject).toBe('Ihr Passwort wurde geändert');
  });

  it('is English without either', async () => {
    expect((await sent(mail)).subject).toBe('Your password was changed');
  });

  it('an invitation from nobody in particular says so in the subject and the body', async () => {
    const { subject, raw } = await sent({ to: 'x@example.test', template: 'invitation', lang: 'fr', data: { ...MAILS.invitation, inviter: undefined, context: 'anonymous' } });
    expect(subject).toBe('Vous avez été invité à rejoindre North');
    expect(raw).toContain('Quelqu’un vous a invité');
    expect(raw).toContain('avec le rôle «\u00a0administrateur\u00a0»');
  });
});
