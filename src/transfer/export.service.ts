// Export: every user in the import format, a page at a time, so that export → import into a fresh
// Gatehouse is lossless and nobody is locked in. Password hashes and TOTP secrets only when the
// operator asks for them, and that request is audited (users.exported).
import type { Audit } from '../audit/audit.ts';
import type { SecretBox } from '../security/secretbox.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import type { TransferRepo } from './transfer.repo.ts';
import { RECORD_FIELDS, type ImportRecord } from './record.schema.ts';
import { csvField, type FileFormat } from './parse.ts';

/** Users per page: one query each for users, memberships, identities (and TOTP). */
const EXPORT_PAGE = 1000;

export interface ExportOptions {
  format?: Exclude<FileFormat, 'json'>;
  withPasswordHashes?: boolean;
  withTotpSecrets?: boolean;
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

type ExportRecord = { [K in keyof ImportRecord]?: unknown };

export function createExportService(deps: { repo: TransferRepo; audit: Audit; box: SecretBox }) {
  const { repo, box } = deps;

  async function* records(opts: ExportOptions): AsyncGenerator<ExportRecord> {
    let after: UserRow | undefined;
    for (;;) {
      const users = await repo.usersPage(after?.id, EXPORT_PAGE);
      if (users.length === 0) return;
      const ids = users.map((u) => u.id);
      const [memberships, identities, totps] = await Promise.all([
        repo.membershipsOf(ids), repo.identitiesOf(ids), opts.withTotpSecrets ? repo.totpOf(ids) : Promise.resolve([]),
      ]);
      const group = <T extends { user_id: string }>(rows: T[]) => {
        const map = new Map<string, T[]>();
        for (const r of rows) (map.get(r.user_id) ?? map.set(r.user_id, []).get(r.user_id)!).push(r);
        return map;
      };
      const ms = group(memberships);
      const is = group(identities);
      const ts = new Map(totps.filter((t) => t.confirmed_at).map((t) => [t.user_id, t.secret_encrypted]));
      for (const u of users) {
        const record: ExportRecord = {
          id: u.id, email: u.email, email_verified: u.email_verified,
          name: u.name ?? undefined, given_name: u.given_name ?? undefined, family_name: u.family_name ?? undefined,
          picture: u.picture ?? undefined, locale: u.locale ?? undefined,
          created_at: new Date(u.created_at).toISOString(), disabled: !!u.disabled_at,
          password_hash: opts.withPasswordHashes && u.password_hash ? u.password_hash : undefined,
          roles: u.roles,
          workspaces: (ms.get(u.id) ?? []).map((m) => ({ id: m.workspace_id, slug: m.slug, name: m.name, role: m.role })),
          identities: (is.get(u.id) ?? []).map((i) => ({ provider: i.provider, subject: i.subject, ...(i.email ? { email: i.email } : {}) })),
          totp_secret: ts.has(u.id) ? box.open(ts.get(u.id)!) : undefined,
        };
        yield record;
      }
      after = users[users.length - 1];
    }
  }

  return {
    /**
     * The file, a line (or CSV row) at a time; the audit event is written before the first line,
     * so an export that was asked for is on the record even if the reader stops early.
     */
    async *lines(opts: ExportOptions = {}): AsyncGenerator<string> {
      await deps.audit.record({
        type: 'users.exported', actorId: opts.actorId ?? null, ip: opts.ip ?? null, userAgent: opts.userAgent ?? null,
        data: { with_password_hashes: !!opts.withPasswordHashes, with_totp_secrets: !!opts.withTotpSecrets, format: opts.format ?? 'jsonl' },
      });
      if (opts.format === 'csv') {
        yield `${RECORD_FIELDS.join(',')}\n`;
        for await (const r of records(opts)) yield `${RECORD_FIELDS.map((f) => csvField(r[f])).join(',')}\n`;
        return;
      }
      for await (const r of records(opts)) yield `${JSON.stringify(r)}\n`;
    },
  };
}
export type ExportService = ReturnType<typeof createExportService>;
