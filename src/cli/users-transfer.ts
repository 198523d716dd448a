// `gatehouse users import FILE` and `gatehouse users export`: the migration kit (src/transfer/,
// operations in src/ops/transfer.ops.ts). Import prints a summary and every failed record with its
// line, or the whole report as JSON with --json; a progress bar shows on a terminal only (stderr).
import { resolve } from 'node:path';
import { once } from 'node:events';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';

type Op = (name: string, args: Record<string, unknown>) => Promise<unknown>;

interface Report {
  dry_run: boolean; atomic: boolean; total: number; created: number; updated: number; skipped: number; failed: number;
  workspaces_created: number; failures: Array<{ line: number; id?: string; email?: string; reason: string }>;
}

/** Failed records shown in the readable summary; --json has them all. */
const SHOWN_FAILURES = 50;

function summary(r: Report): string {
  const would = r.dry_run ? 'would be ' : '';
  const head = r.dry_run ? 'Dry run: nothing was written.\n' : r.atomic && r.failed > 0 ? 'Atomic import: nothing was written, because some records failed.\n' : '';
  const lines = [
    `${head}${r.total} records: ${r.created} ${would}created, ${r.updated} ${would}updated, ${r.skipped} skipped (already there), ${r.failed} failed; ${r.workspaces_created} workspaces ${would}created.`,
    ...r.failures.slice(0, SHOWN_FAILURES).map((f) => `  line ${f.line}${f.email ? ` (${f.email})` : ''}: ${f.reason}`),
  ];
  if (r.failures.length > SHOWN_FAILURES) lines.push(`  … and ${r.failures.length - SHOWN_FAILURES} more (use --json for all)`);
  return lines.join('\n');
}

export function addUserTransferCommands(program: Command, op: Op): void {
  const users = program.commands.find((c) => c.name() === 'users') ?? program.command('users');
  users.command('import <file>').description('import users from a JSON Lines or CSV file (docs/migrating.md): ids, password hashes, roles, workspaces, identities')
    .option('--update', 'update existing users (matched by id, else by email) where the file differs; without it they are skipped')
    .option('--dry-run', 'check every record and report what would happen; write nothing')
    .option('--atomic', 'all or nothing: if any record fails, write nothing')
    .option('--allow-unsalted-hashes', 'accept unsalted MD5, SHA-1 and SHA-256 hashes; those users must choose a new password at their first sign-in')
    .addOption(new Option('--format <format>', 'the file format (default: by extension, else by content)').choices(['jsonl', 'csv', 'json']))
    .option('--json', 'print the report as JSON')
    .action(async (file: string, o) => {
      // a bar only for a person watching: a terminal on stderr, and not under --json to a pipe
      const showBar = process.stderr.isTTY && !(o.json && !process.stdout.isTTY);
      const bar = showBar ? new cliProgress.SingleBar({ stream: process.stderr, format: 'importing [{bar}] {value}/{total} records', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      const onProgress = (done: number, total: number) => {
        if (!bar) return;
        if (!started) { bar.start(total, done); started = true; } else bar.update(done);
      };
      let report: Report;
      try {
        report = await op('users.import', {
          path: resolve(file), format: o.format, update: !!o.update, dry_run: !!o.dryRun, atomic: !!o.atomic,
          allow_unsalted_hashes: !!o.allowUnsaltedHashes, onProgress,
        }) as Report;
      } finally {
        if (started) bar!.stop();
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${summary(report)}\n`);
      if (report.failed > 0) process.exitCode = 1; // the report said which; a script sees the exit code
    });

  users.command('export').description('write every user in the import format (no password hashes unless asked; that request is audited)')
    .addOption(new Option('--format <format>', 'JSON Lines or CSV').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--with-password-hashes', 'include password hashes (for a move to another Gatehouse; audited as users.exported)')
    .option('--with-totp-secrets', 'include authenticator-app (TOTP) secrets, decrypted (audited)')
    .option('--output <file>', 'write to this file (mode 0600) instead of standard output')
    .action(async (o) => {
      const args = { format: o.format, with_password_hashes: !!o.withPasswordHashes, with_totp_secrets: !!o.withTotpSecrets };
      if (o.output) {
        const r = await op('users.export', { ...args, path: resolve(o.output) }) as { users: number };
        process.stderr.write(`Exported ${r.users} users to ${o.output}.\n`);
        return;
      }
      const write = async (chunk: string) => { if (!process.stdout.write(chunk)) await once(process.stdout, 'drain'); };
      const r = await op('users.export', { ...args, write }) as { text?: string };
      if (r.text !== undefined) await write(r.text); // through a running server's control socket
    });
}
