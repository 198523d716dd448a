// `gatehouse resources …`: the APIs that get JWT access tokens, the user claims those carry and their
// own scopes (docs/resources.md). GATEHOUSE_RESOURCES entries are listed too, and cannot be changed here.
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.ts';
import { runOp } from './operator-stores.ts';

/** `default` stays a word here (commander turns a parser's null into ''); the action makes it null. */
const ttl = (v: string): number | 'default' => {
  if (v === 'default') return v;
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a whole number of seconds, or "default"');
  return Number(v);
};
const ttlOf = (v: number | 'default' | undefined) => (v === 'default' ? null : v);

function print(json: boolean, value: unknown, human: (v: any) => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
}

const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

const sourceOf = (r: any) => (r.source === 'env' ? 'GATEHOUSE_RESOURCES (read-only)' : r.shadowed ? `${r.source} (shadowed by GATEHOUSE_RESOURCES)` : r.source);

const human = (r: any) => [
  `audience:   ${r.audience}`,
  `id:         ${r.id ?? '-'}`,
  `name:       ${r.name}`,
  `claims:     ${r.claims.join(', ') || '-'}   (each only when the user granted its scope; the workspace claims with "workspace")`,
  `scopes:     ${r.scopes.join(' ') || '-'}`,
  `token TTL:  ${r.effective_ttl} s${r.ttl === null ? ' (GATEHOUSE_ACCESS_TOKEN_TTL)' : ''}`,
  `status:     ${r.enabled ? 'enabled' : 'disabled (asking for it is invalid_target)'}`,
  `source:     ${sourceOf(r)}`,
].join('\n');

export function addResourceCommands(program: Command): void {
  const op = (name: string, args: Record<string, unknown>) => runOp(loadConfig(), name, args);
  const resources = program.command('resources').description('manage resources (APIs): their audience, the claims and scopes of their access tokens');

  resources.command('create').description('register an API: apps ask for tokens for it with resource=<audience>')
    .requiredOption('--audience <uri>', 'the API\'s resource indicator, its tokens\' aud: an https URI (http://localhost outside production), no fragment')
    .option('--name <name>', 'display name (default: the audience)')
    .option('--claims <list>', 'user claims its tokens carry when granted: email, email_verified, name, given_name, family_name, picture, locale, roles, workspaces (comma-separated)')
    .option('--scopes <scopes>', 'the API\'s own scopes, space- or comma-separated (e.g. "orders:read orders:write")')
    .option('--ttl <seconds>', 'access token lifetime (60 to GATEHOUSE_ACCESS_TOKEN_TTL; default: GATEHOUSE_ACCESS_TOKEN_TTL)', ttl)
    .option('--disabled', 'create it disabled')
    .option('--json', 'print JSON')
    .action(async (o) => {
      print(o.json, await op('resources.create', {
        audience: o.audience, name: o.name, claims: o.claims, scopes: o.scopes, ttl: ttlOf(o.ttl), enabled: o.disabled ? false : undefined,
      }), human);
    });
  resources.command('list').description('list resources, GATEHOUSE_RESOURCES entries included').option('--json', 'print JSON').action(async (o) => {
    const rows = await op('resources.list', {}) as any[];
    print(o.json, rows, (r: any[]) => r.length ? table([['AUDIENCE', 'NAME', 'CLAIMS', 'SCOPES', 'TTL', 'STATUS', 'SOURCE'],
      ...r.map((x) => [x.audience, x.name, x.claims.join(',') || '-', x.scopes.join(' ') || '-', String(x.effective_ttl), x.enabled ? 'enabled' : 'disabled', x.source === 'env' ? 'env' : x.shadowed ? `${x.source} (shadowed)` : x.source])]) : 'No resources yet.');
  });
  resources.command('show <audience-or-id>').description('show one resource').option('--json', 'print JSON').action(async (ref, o) => {
    print(o.json, await op('resources.show', { resource: ref }), human);
  });
  resources.command('update <audience-or-id>').description('change a resource: what is not given stays; the next token uses the change (not GATEHOUSE_RESOURCES entries)')
    .option('--name <name>', 'display name')
    .option('--claims <list>', 'the claims, replacing the current list ("" for none)')
    .option('--scopes <scopes>', 'the API scopes, replacing the current list ("" for none)')
    .option('--ttl <seconds>', 'access token lifetime, or "default" for GATEHOUSE_ACCESS_TOKEN_TTL', ttl)
    .option('--enable', 'enable it')
    .option('--disable', 'disable it: asking for it is invalid_target, also at refresh')
    .option('--json', 'print JSON')
    .action(async (ref, o) => {
      if (o.enable && o.disable) throw new InvalidArgumentError('--enable or --disable, not both');
      print(o.json, await op('resources.update', {
        resource: ref, name: o.name, claims: o.claims, scopes: o.scopes, ttl: ttlOf(o.ttl), enabled: o.enable ? true : o.disable ? false : undefined,
      }), human);
    });
  resources.command('remove <audience-or-id>').description('remove a resource: asking for it is invalid_target from now on, also at refresh (not GATEHOUSE_RESOURCES entries)')
    .option('--json', 'print JSON')
    .action(async (ref, o) => {
      print(o.json, await op('resources.remove', { resource: ref }), (r) => `Removed resource ${r.audience}.`);
    });
}
