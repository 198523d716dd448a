// Mail through nodemailer: real SMTP with SMTP_URL, otherwise a dev outbox (one .eml file per
// message in <data dir>/outbox/) so every flow can be finished locally.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Views } from '../render/views.ts';
import { DEFAULT_LANGUAGE, pickLanguage, type Language } from '../render/i18n.ts';
import { unavailable } from '../errors/app-error.ts';
import { requestLanguage } from './mail-language.ts';

/**
 * One message. Its words come from the `mail` catalog (locales/<lang>/mail.json) in the recipient's
 * language: the subject is `mail:<template>.subject` with `data` (and the brand's name as
 * `product`) filled in, the body views/mail/<template>.{txt,html}.eta.
 */
export interface Mail {
  to: string;
  template: string;
  data: Record<string, unknown>;
  /**
   * The recipient's language (their account's `locale`) when known. Without it, or when it is not
   * a language we ship, the language of the request that caused the mail (src/mail/mail-language.ts),
   * else English.
   */
  lang?: string | null;
  /** Only for a template the catalog has no subject for (English then, whatever the language). */
  subject?: string;
}
export interface Mailer {
  /** Sends now; the caller waits (and gets a 503 AppError if SMTP refuses). */
  send(mail: Mail): Promise<void>;
  /**
   * Runs `job` after the current request has been answered (its failure is logged, never thrown).
   * For work whose cost would tell a requester whether an account exists — the mail of a password
   * reset or a sign-up, and the records that go with it: the answer must not wait for it.
   */
  later(what: string, job: () => Promise<void>): void;
  /** Resolves when every job handed to later() so far has finished (graceful shutdown, tests). */
  settled(): Promise<void>;
  outboxDir?: string;
}

/** Background jobs: started on the next turn of the event loop, tracked until they settle. */
function background(log: Logger): Pick<Mailer, 'later' | 'settled'> {
  const running = new Set<Promise<void>>();
  return {
    later(what, job) {
      const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(job)
        .catch((err: unknown) => { log.error({ err: (err as Error)?.message ?? String(err), job: what }, 'background mail job failed'); })
        .finally(() => { running.delete(p); });
      running.add(p);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

export function createMailer(opts: { smtpUrl?: string; from: string; dataDir: string; views: Views; log: Logger }): Mailer {
  const { views, log } = opts;
  const languageOf = (m: Mail): Language => pickLanguage([m.lang, requestLanguage()]) ?? DEFAULT_LANGUAGE;
  const subjectOf = (m: Mail, lang: Language): string => {
    const key = `mail:${m.template}.subject`;
    const context = typeof m.data.context === 'string' ? m.data.context : undefined;
    if (!views.i18n.catalog(lang, 'mail')[m.template]) return m.subject ?? m.template;
    return views.i18n.translator(lang)(key, { product: views.brand.name, ...m.data, context });
  };
  const render = (m: Mail) => {
    const lang = languageOf(m);
    const subject = subjectOf(m, lang);
    const data = { title: subject, ...m.data, lang };
    return {
      from: opts.from,
      to: m.to,
      subject,
      text: views.render(`mail/${m.template}.txt.eta`, data),
      html: views.render(`mail/${m.template}.html.eta`, data),
      headers: { 'Content-Language': lang },
    };
  };

  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      ...background(log),
      async send(m) {
        try {
          await transport.sendMail(render(m));
        } catch (err) {
          log.error({ err: (err as Error).message, template: m.template }, 'mail could not be sent');
          throw unavailable('We could not send the email just now. Try again in a few minutes.');
        }
        log.info({ template: m.template }, 'mail sent');
      },
    };
  }

  const outboxDir = join(opts.dataDir, 'outbox');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    ...background(log),
    outboxDir,
    async send(m) {
      const info = await transport.sendMail(render(m));
      mkdirSync(outboxDir, { recursive: true, mode: 0o700 });
      const file = join(outboxDir, `${Date.now()}-${Math.random().toString(36).slice(2, 8)}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      // Development only (no SMTP configured): say where the message is so a newcomer can finish the flow.
      log.info({ template: m.template, to: m.to, file }, 'mail written to the dev outbox');
    },
  };
}
