// Mail through nodemailer: real SMTP with SMTP_URL, otherwise a dev outbox (one .eml file per
// message in <data dir>/outbox/) so every flow can be finished locally.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Views } from '../views/render.ts';
import { unavailable } from '../http/errors.ts';

export interface Mail { to: string; template: string; subject: string; data: Record<string, unknown> }
export interface Mailer { send(mail: Mail): Promise<void>; outboxDir?: string }

export function createMailer(opts: { smtpUrl?: string; from: string; dataDir: string; views: Views; log: Logger }): Mailer {
  const { views, log } = opts;
  const render = (m: Mail) => ({
    from: opts.from,
    to: m.to,
    subject: m.subject,
    text: views.render(`mail/${m.template}.txt.eta`, { title: m.subject, ...m.data }),
    html: views.render(`mail/${m.template}.html.eta`, { title: m.subject, ...m.data }),
  });

  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
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
