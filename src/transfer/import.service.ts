// Import: users from another system, with their ids (kept as `sub`), password hashes (verbatim,
// verified and replaced at the next sign-in), roles, workspaces, upstream identities and TOTP
// secrets. Three stages: read every record (no database), check each against the file and the
// database, then write in chunks of multi-row inserts, one transaction a chunk (or one for the
// whole file with `atomic`). No hashing happens here: 100,000 users take seconds, not hours.
//
// Safe to run twice: a user who exists already (same id, or same email) is skipped, or with
// `update` changed only where the record differs; the same file again changes nothing.
import { randomUUID } from 'node:crypto';
import type { Audit, AuditEvent } from '../audit/audit.ts';
import type { SecretBox } from '../security/secretbox.ts';
import type { Transactions, Queryable } from '../storage/transactions.ts';
import type { UserRow } from '../accounts/account.repo.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { parseLegacyHash } from '../accounts/legacy-hash.ts';
import { needsRehash } from '../accounts/password.ts';
import type { NewIdentity } from '../upstream/identity.repo.ts';
import type { TransferRepo, NewUserRow } from './transfer.repo.ts';
import { describeIssues, importRecordSchema, type ImportRecord } from './record.schema.ts';
import type { SourceRecord } from './parse.ts';

/** Records per transaction: big enough that round trips vanish, small enough to hold in memory and retry. */
export const IMPORT_CHUNK = 1000;

export interface ImportOptions {
  /** change existing users (matched by id, else by email) where the record differs */
  update?: boolean;
  /** check everything and report what would happen; write nothing */
  dryRun?: boolean;
  /** all or nothing: one failed record and nothing is written */
  atomic?: boolean;
  /** accept unsalted MD5 / SHA-1 / SHA-256 hashes; those users must choose a new password at sign-in */
  allowUnsaltedHashes?: boolean;
  /** who ran it, for the audit trail: 'cli' (operator) or 'api' (an admin, `actorId`) */
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportFailure { line: number; id?: string; email?: string; reason: string }
export interface ImportReport {
  dry_run: boolean;
  atomic: boolean;
  total: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  workspaces_created: number;
  failures: ImportFailure[];
}

interface Checked { line: number; record: ImportRecord; id?: string; emailNormalized: string; unsalted: boolean }

type Outcome = { kind: 'create'; user: NewUserRow } | { kind: 'update'; user: UserRow; patch: Partial<NewUserRow>; fields: string[] } | { kind: 'skip'; user: UserRow };

export interface ImportDeps {
  repo: TransferRepo;
  identities: { insertMany(rows: readonly NewIdentity[], db?: Queryable): Promise<number> };
  transactions: Transactions;
  audit: Audit;
  box: SecretBox;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** A failure that ends the chunk (or, atomic, the whole import): the records' own failures are already listed. */
class AtomicAbort extends Error {}

export function createImportService(deps: ImportDeps) {
  const { repo, box } = deps;

  /** Stage 2a: each record on its own and against the rest of the file. */
  function checkRecords(source: readonly SourceRecord[], opts: ImportOptions, providers: ReadonlySet<string>, fail: (f: ImportFailure) => void): Checked[] {
    const byId = new Map<string, number>();
    const byEmail = new Map<string, number>();
    const byIdentity = new Map<string, number>();
    const checked: Checked[] = [];
    for (const { line, value, error } of source) {
      const hint = value && typeof value === 'object' ? value as Record<string, unknown> : {};
      const who = { id: typeof hint.id === 'string' ? hint.id.slice(0, 64) : undefined, email: typeof hint.email === 'string' ? hint.email.slice(0, 320) : undefined };
      if (error) { fail({ line, ...who, reason: error }); continue; }
      if (!value || typeof value !== 'object' || Array.isArray(value)) { fail({ line, reason: 'a record must be a JSON object' }); continue; }
      // Postgres text cannot hold U+0000: refused here, by name, rather than by the store mid-chunk
      if (JSON.stringify(value).includes('\\u0000')) { fail({ line, ...who, reason: 'contains a NUL character (U+0000), which no field may hold' }); continue; }
      const parsed = importRecordSchema.safeParse(value);
      if (!parsed.success) { fail({ line, ...who, reason: describeIssues(parsed.error) }); continue; }
      const record = parsed.data;
      const reject = (reason: string) => fail({ line, id: record.id, email: record.email, reason });
      const emailNormalized = normalizeEmail(record.email);
      let unsalted = false;
      if (record.password_hash) {
        const hash = parseLegacyHash(record.password_hash);
        if (!hash) { reject('password_hash: not a supported format (see docs/migrating.md), or its cost parameters are out of bounds'); continue; }
        if (hash.unsalted && !opts.allowUnsaltedHashes) {
          reject(`password_hash: an unsalted ${hash.format.toUpperCase()} hash is refused; import with --allow-unsalted-hashes to accept it (those users must choose a new password at their first sign-in)`);
          continue;
        }
        unsalted = hash.unsalted;
      }
      const unknownProvider = record.identities?.find((i) => !providers.has(i.provider));
      if (unknownProvider) { reject(`identities: no upstream provider named "${unknownProvider.provider}": register it first (gatehouse providers add)`); continue; }
      const slugs = record.workspaces?.map((w) => w.slug) ?? [];
      if (new Set(slugs).size !== slugs.length) { reject('workspaces: the same workspace twice'); continue; }
      const firstId = record.id ? byId.get(record.id) : undefined;
      if (firstId !== undefined) { reject(`id: the same id as the record at line ${firstId}`); continue; }
      const firstEmail = byEmail.get(emailNormalized);
      if (firstEmail !== undefined) { reject(`email: the same email as the record at line ${firstEmail}`); continue; }
      const identityKeys = record.identities?.map((i) => `${i.provider}\n${i.subject}`) ?? [];
      const takenIdentity = identityKeys.find((k) => byIdentity.has(k));
      if (takenIdentity) { reject(`identities: ${takenIdentity.replace('\n', ' ')} is also on the record at line ${byIdentity.get(takenIdentity)}`); continue; }
      if (record.id) byId.set(record.id, line);
      byEmail.set(emailNormalized, line);
      for (const k of identityKeys) byIdentity.set(k, line);
      checked.push({ line, record, id: record.id, emailNormalized, unsalted });
    }
    return checked;
  }

  function newUserRow(c: Checked): NewUserRow {
    const r = c.record;
    return {
      id: c.id ?? randomUUID(),
      email: r.email, email_normalized: c.emailNormalized, email_verified: r.email_verified ?? false,
      password_hash: r.password_hash ?? null,
      name: r.name || null, given_name: r.given_name || null, family_name: r.family_name || null,
      picture: r.picture || null, locale: r.locale || null,
      roles: [...new Set(r.roles ?? [])],
      disabled_at: r.disabled ? new Date() : null,
      password_change_required: c.unsalted,
      ...(r.created_at ? { created_at: new Date(r.created_at) } : {}),
    };
  }

  /** What an update changes: only the fields the record carries, and only where they differ. */
  function patchFor(c: Checked, user: UserRow): { patch: Partial<NewUserRow>; fields: string[] } {
    const r = c.record;
    const patch: Partial<NewUserRow> = {};
    const fields: string[] = [];
    const set = <K extends keyof NewUserRow>(field: string, key: K, value: NewUserRow[K], same: boolean) => {
      if (!same) { patch[key] = value; if (!fields.includes(field)) fields.push(field); }
    };
    if (r.email !== user.email) { set('email', 'email', r.email, false); set('email', 'email_normalized', c.emailNormalized, c.emailNormalized === user.email_normalized); }
    if (r.email_verified !== undefined) set('email_verified', 'email_verified', r.email_verified, r.email_verified === user.email_verified);
    for (const key of ['name', 'given_name', 'family_name', 'picture', 'locale'] as const) {
      if (r[key] !== undefined) set(key, key, r[key] || null, (r[key] || null) === user[key]);
    }
    if (r.roles !== undefined) set('roles', 'roles', [...new Set(r.roles)], sameSet([...new Set(r.roles)], user.roles));
    if (r.disabled !== undefined) set('disabled', 'disabled_at', r.disabled ? new Date() : null, r.disabled === !!user.disabled_at);
    if (r.created_at !== undefined) set('created_at', 'created_at', new Date(r.created_at), new Date(r.created_at).getTime() === new Date(user.created_at).getTime());
    // A hash Gatehouse made (the user signed in here, or chose a password here) is newer than any
    // the old system has: an update never puts the old one back.
    if (r.password_hash !== undefined && r.password_hash !== user.password_hash && (!user.password_hash || needsRehash(user.password_hash))) {
      set('password_hash', 'password_hash', r.password_hash ?? null, false);
      set('password_hash', 'password_change_required', c.unsalted, c.unsalted === user.password_change_required);
    }
    return { patch, fields };
  }

  /** Stage 2b and 3 for one chunk, in `tx`. Returns the failures found against the database. */
  async function runChunk(chunk: readonly Checked[], opts: ImportOptions, report: ImportReport, tx: Queryable, fail: (f: ImportFailure) => void): Promise<void> {
    const existing = await repo.usersMatching(chunk.flatMap((c) => (c.id ? [c.id] : [])), chunk.map((c) => c.emailNormalized), tx);
    const usersById = new Map(existing.map((u) => [u.id, u]));
    const usersByEmail = new Map(existing.map((u) => [u.email_normalized, u]));
    const pairs = chunk.flatMap((c) => c.record.identities ?? []);
    const linked = new Map((await repo.identitiesMatching(pairs, tx)).map((i) => [`${i.provider}\n${i.subject}`, i.user_id]));
    const slugs = [...new Set(chunk.flatMap((c) => c.record.workspaces?.map((w) => w.slug) ?? []))];
    const wsIds = [...new Set(chunk.flatMap((c) => c.record.workspaces?.flatMap((w) => (w.id ? [w.id] : [])) ?? []))];
    const workspaces = await repo.workspacesBySlugOrId(slugs, wsIds, tx);
    const wsBySlug = new Map(workspaces.map((w) => [w.slug, w]));
    const wsById = new Map(workspaces.map((w) => [w.id, w]));
    const memberships = await repo.membershipsOf(existing.map((u) => u.id), tx);
    const totps = opts.update ? await repo.totpOf(existing.map((u) => u.id), tx) : [];

    const newUsers: NewUserRow[] = [];
    const updates: Array<{ id: string; patch: Partial<NewUserRow> }> = [];
    const newWorkspaces = new Map<string, { id: string; slug: string; name: string; created_by: string | null }>();
    const newMemberships: Array<{ workspace_id: string; user_id: string; role: 'owner' | 'admin' | 'member' }> = [];
    const newTotp: Array<{ user_id: string; secret_encrypted: string }> = [];
    const newIdentities: NewIdentity[] = [];
    const events: AuditEvent[] = [];
    const origin = { actorId: opts.actorId ?? null, ip: opts.ip ?? null, userAgent: opts.userAgent ?? null };

    for (const c of chunk) {
      const reject = (reason: string) => fail({ line: c.line, id: c.id, email: c.record.email, reason });
      const byId = c.id ? usersById.get(c.id) : undefined;
      const byEmail = usersByEmail.get(c.emailNormalized);
      if (c.id && !byId && byEmail) { reject(`email: already the email of another account (${byEmail.id}); its id cannot change`); continue; }
      if (byId && byEmail && byId.id !== byEmail.id) { reject(`email: already the email of another account (${byEmail.id})`); continue; }
      const current = byId ?? byEmail;
      let outcome: Outcome;
      if (!current) outcome = { kind: 'create', user: newUserRow(c) };
      else if (!opts.update) outcome = { kind: 'skip', user: current };
      else {
        const { patch, fields } = patchFor(c, current);
        outcome = { kind: 'update', user: current, patch, fields };
      }
      if (outcome.kind === 'skip') { report.skipped++; continue; }
      const userId = outcome.user.id;

      // identities: a pair linked to someone else is this record's failure
      const identities = c.record.identities ?? [];
      const clash = identities.find((i) => { const owner = linked.get(`${i.provider}\n${i.subject}`); return owner && owner !== userId; });
      if (clash) { reject(`identities: ${clash.provider} ${clash.subject} is linked to another account`); continue; }
      const addIdentities = identities.filter((i) => !linked.has(`${i.provider}\n${i.subject}`));

      // workspaces: found by slug (or the exported id), created when missing
      const mine = memberships.filter((m) => m.user_id === userId);
      const wanted: Array<{ workspace_id: string; role: 'owner' | 'admin' | 'member' }> = [];
      // each membership the import adds or re-roles is on the record like one made by hand
      const memberEvents: AuditEvent[] = [];
      let wsProblem: string | undefined;
      for (const w of c.record.workspaces ?? []) {
        const bySlug = wsBySlug.get(w.slug) ?? newWorkspaces.get(w.slug);
        const byWsId = w.id ? wsById.get(w.id) : undefined;
        if (w.id && byWsId && byWsId.slug !== w.slug) { wsProblem = `workspaces: id ${w.id} is the workspace "${byWsId.slug}", not "${w.slug}"`; break; }
        if (w.id && bySlug && bySlug.id !== w.id) { wsProblem = `workspaces: "${w.slug}" exists with another id (${bySlug.id})`; break; }
        let ws = bySlug;
        if (!ws) {
          const created = { id: w.id ?? randomUUID(), slug: w.slug, name: w.name ?? w.slug, created_by: outcome.kind === 'create' ? userId : null };
          newWorkspaces.set(w.slug, created);
          ws = created;
        }
        const wsId = ws.id;
        const has = mine.find((m) => m.workspace_id === wsId);
        if (!has || has.role !== w.role) {
          wanted.push({ workspace_id: ws.id, role: w.role });
          memberEvents.push(has
            ? { type: 'workspace.member_role_changed', subjectId: userId, ...origin, data: { workspace_id: ws.id, from: has.role, to: w.role, source: 'import' } }
            : { type: 'workspace.member_added', subjectId: userId, ...origin, data: { workspace_id: ws.id, role: w.role, source: 'import' } });
        }
      }
      if (wsProblem) { reject(wsProblem); continue; }

      // TOTP: sealed like an enrolled secret (src/mfa/totp.ts), active at once
      let totp: string | undefined;
      if (c.record.totp_secret) {
        const current = totps.find((t) => t.user_id === userId);
        let same = false;
        if (current) { try { same = box.open(current.secret_encrypted) === c.record.totp_secret && !!current.confirmed_at; } catch { same = false; } }
        if (!same) totp = c.record.totp_secret;
      }

      if (outcome.kind === 'create') {
        newUsers.push(outcome.user);
        report.created++;
        // roles are on the record (an import can make admins): the values, never a hash
        events.push({ type: 'user.created', subjectId: userId, ...origin, data: { source: 'import', roles: outcome.user.roles } });
      } else {
        const fields = [...outcome.fields];
        if (wanted.length) fields.push('workspaces');
        if (addIdentities.length) fields.push('identities');
        if (totp) fields.push('totp_secret');
        if (fields.length === 0) { report.skipped++; continue; }
        if (Object.keys(outcome.patch).length) updates.push({ id: userId, patch: outcome.patch });
        report.updated++;
        const roles = outcome.kind === 'update' && 'roles' in outcome.patch ? { roles: { from: outcome.user.roles, to: outcome.patch.roles } } : {};
        events.push({ type: 'user.updated', subjectId: userId, ...origin, data: { fields, source: 'import', ...roles } });
      }
      events.push(...memberEvents);
      newMemberships.push(...wanted.map((m) => ({ ...m, user_id: userId })));
      newIdentities.push(...addIdentities.map((i) => ({ provider: i.provider, subject: i.subject, user_id: userId, email: i.email ?? null })));
      for (const i of addIdentities) linked.set(`${i.provider}\n${i.subject}`, userId);
      if (totp) newTotp.push({ user_id: userId, secret_encrypted: box.seal(totp) });
    }
    report.workspaces_created += newWorkspaces.size;
    if (opts.dryRun) return;
    await repo.insertUsers(newUsers, tx);
    for (const u of updates) await repo.updateUser(u.id, u.patch, tx);
    await repo.insertWorkspaces([...newWorkspaces.values()], tx);
    await repo.upsertMemberships(newMemberships, tx);
    await repo.upsertTotp(newTotp, tx);
    await deps.identities.insertMany(newIdentities, tx);
    await deps.audit.recordMany(events, tx);
  }

  return {
    async importRecords(source: readonly SourceRecord[], opts: ImportOptions = {}): Promise<ImportReport> {
      const report: ImportReport = {
        dry_run: !!opts.dryRun, atomic: !!opts.atomic, total: source.length,
        created: 0, updated: 0, skipped: 0, failed: 0, workspaces_created: 0, failures: [],
      };
      const fail = (f: ImportFailure) => { report.failures.push(f); report.failed++; };
      const providers = new Set(await repo.providerNames());
      const checked = checkRecords(source, opts, providers, fail);
      let done = report.failed;
      opts.onProgress?.(done, report.total);
      const counts = () => ({ created: report.created, updated: report.updated, skipped: report.skipped, workspaces_created: report.workspaces_created });
      const restore = (saved: ReturnType<typeof counts>) => Object.assign(report, saved);

      if (opts.atomic) {
        if (report.failed > 0) return finalise(report, true);
        try {
          await deps.transactions.run(async (tx) => {
            for (let i = 0; i < checked.length; i += IMPORT_CHUNK) {
              const chunk = checked.slice(i, i + IMPORT_CHUNK);
              await runChunk(chunk, opts, report, tx, fail);
              if (report.failed > 0) throw new AtomicAbort();
              done += chunk.length;
              opts.onProgress?.(done, report.total);
            }
            if (opts.dryRun) throw new AtomicAbort(); // reads only, but never leave a doubt
          });
        } catch (e) {
          if (!(e instanceof AtomicAbort)) throw e;
        }
        return finalise(report, report.failed > 0);
      }

      for (let i = 0; i < checked.length; i += IMPORT_CHUNK) {
        const chunk = checked.slice(i, i + IMPORT_CHUNK);
        const saved = counts();
        const failuresBefore = report.failures.length;
        try {
          await deps.transactions.run((tx) => runChunk(chunk, opts, report, tx, fail));
        } catch {
          // Something only the database could tell (a row written meanwhile by another import or a
          // sign-up): redo this chunk a record at a time, so the record at fault fails alone.
          restore(saved);
          report.failed -= report.failures.length - failuresBefore;
          report.failures.length = failuresBefore;
          for (const c of chunk) {
            const single = counts();
            const before = report.failures.length;
            try {
              await deps.transactions.run((tx) => runChunk([c], opts, report, tx, fail));
            } catch (e) {
              restore(single);
              report.failed -= report.failures.length - before;
              report.failures.length = before;
              fail({ line: c.line, id: c.id, email: c.record.email, reason: storeReason(e) });
            }
          }
        }
        done += chunk.length;
        opts.onProgress?.(done, report.total);
      }
      return finalise(report, false);
    },
  };
}
export type ImportService = ReturnType<typeof createImportService>;

/** The store's refusal in words an operator can act on; never the SQL (it would carry the values). */
function storeReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  const constraint = (e as { constraint?: string }).constraint ?? '';
  if (code === '23505') return `conflicts with an existing row (${constraint || 'a unique value'}); was it created meanwhile?`;
  if (code === '23503') return `refers to something that does not exist (${constraint || 'a foreign key'})`;
  if (code === '23514') return `refused by a check (${constraint || 'a constraint'})`;
  if (code?.startsWith('22') || code?.startsWith('23')) return `a value the database refuses (SQLSTATE ${code})`;
  throw e; // not the record's fault (the store is down): the caller answers 503
}

/** Failures in file order; an atomic import that failed wrote nothing, so it created nothing. */
function finalise(report: ImportReport, abortedAtomic: boolean): ImportReport {
  report.failures.sort((a, b) => a.line - b.line);
  if (abortedAtomic) Object.assign(report, { created: 0, updated: 0, workspaces_created: 0, skipped: 0 });
  return report;
}
