// `gatehouse webhooks …`: the operator's webhook endpoints (src/ops/webhooks.ops.ts does the work,
// the same changes and audit events as the admin API and console). The signing secret is printed
// by `add` and `rotate-secret` only, once; nothing else ever shows it.
import { Command, InvalidArgumentError, Option } from 'commander';

type Op = (name: string, args: Record<string, unknown>) => Promise<unknown>;

const events = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const count = (what: string, max: number) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) > max) throw new InvalidArgumentError(`${what}: a whole number up to ${max}`);
  return Number(v);
};

function print(json: boolean, value: unknown, human: (v: any) => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
}

const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};
/** A receiver's words on the operator's terminal: no control characters (escape sequences), one line. */
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
const when = (d: string | null | undefined) => (d ? new Date(d).toISOString().slice(0, 19).replace('T', ' ') : '-');

/** enabled, failing (since when), or disabled (and why): what an operator needs at a glance */
export const statusOf = (e: any): string => {
  if (!e.enabled) return `disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ''}`;
  if (e.failing_since) return `failing since ${when(e.failing_since)}`;
  return 'enabled';
};

const endpointHuman = (e: any) => [
  `id:           ${e.id}`,
  ...(e.secret ? [`secret:       ${e.secret}   (shown once: store it now)`] : []),
  `url:          ${e.url}`,
  `events:       ${e.events.join(', ')}`,
  `workspace:    ${e.workspace ? `${e.workspace.slug} (${e.workspace.id})` : 'all'}`,
  ...(e.description ? [`description:  ${e.description}`] : []),
  `status:       ${statusOf(e)}`,
  `created:      ${when(e.created_at)}`,
].join('\n');

const deliveryRows = (r: any) => r.deliveries.length
  ? table([['TIME', 'EVENT', 'MESSAGE', 'ATTEMPT', 'STATUS', 'LATENCY', 'NEXT RETRY', 'RESPONSE'], ...r.deliveries.map((d: any) => [
    when(d.at), d.event_type, d.message_id, String(d.attempt), d.status_code ? String(d.status_code) : printable(d.error ?? '-'),
    d.latency_ms === null || d.latency_ms === undefined ? '-' : `${d.latency_ms} ms`, when(d.next_retry_at), printable(d.response_excerpt ?? '').slice(0, 40),
  ])]) + (r.total > r.offset + r.deliveries.length ? `\n(${r.total} in all: --offset ${r.offset + r.deliveries.length} for more)` : '')
  : 'No deliveries yet.';

export function addWebhookCommands(program: Command, op: Op): void {
  const hooks = program.command('webhooks').description('manage webhook endpoints (Standard Webhooks): apps hear of changes as they happen');
  hooks.command('add').description('register an endpoint; prints its id and signing secret (shown once)')
    .requiredOption('--url <url>', 'where events are POSTed (https; http only for localhost in development)')
    .requiredOption('--events <list>', 'event types, comma-separated or repeated (see `gatehouse webhooks events`)', events)
    .option('--workspace <id-or-slug>', 'only events about this workspace and its members')
    .option('--description <text>', 'a note for operators: whose endpoint it is')
    .option('--json', 'print JSON')
    .action(async (o) => {
      print(o.json, await op('webhooks.add', { url: o.url, events: o.events, workspace: o.workspace, description: o.description }), endpointHuman);
    });
  hooks.command('list').description('list endpoints with their status').option('--json', 'print JSON').action(async (o) => {
    const rows = await op('webhooks.list', {}) as any[];
    print(o.json, rows, (r) => r.length ? table([['ID', 'URL', 'EVENTS', 'WORKSPACE', 'STATUS'], ...r.map((e: any) => [e.id, e.url, e.events.join(','), e.workspace?.slug ?? 'all', statusOf(e)])]) : 'No webhook endpoints yet.');
  });
  hooks.command('events').description('list the event types an endpoint can subscribe to').option('--json', 'print JSON').action(async (o) => {
    const rows = await op('webhooks.events', {}) as any[];
    print(o.json, rows, (r) => table([['TYPE', 'WHEN'], ...r.map((e: any) => [e.type, e.description])]));
  });
  hooks.command('show <id>').description('show one endpoint').option('--json', 'print JSON').action(async (id, o) => {
    print(o.json, await op('webhooks.show', { id }), endpointHuman);
  });
  hooks.command('update <id>').description('change an endpoint\'s URL, events, workspace or description')
    .option('--url <url>', 'new URL')
    .option('--events <list>', 'the new list of event types (replaces the old one)', events)
    .addOption(new Option('--workspace <id-or-slug>', 'only events about this workspace').conflicts('allWorkspaces'))
    .option('--all-workspaces', 'events about every workspace again')
    .option('--description <text>', 'new note ("" clears it)')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const patch: Record<string, unknown> = { id };
      if (o.url !== undefined) patch.url = o.url;
      if (o.events !== undefined) patch.events = o.events;
      if (o.workspace !== undefined) patch.workspace = o.workspace;
      if (o.allWorkspaces) patch.workspace = null;
      if (o.description !== undefined) patch.description = o.description;
      print(o.json, await op('webhooks.update', patch), endpointHuman);
    });
  hooks.command('remove <id>').description('delete an endpoint: nothing more is sent to it, and its delivery log goes with it')
    .option('--json', 'print JSON').action(async (id, o) => {
      print(o.json, await op('webhooks.remove', { id }), () => `Removed webhook endpoint ${id}.`);
    });
  hooks.command('rotate-secret <id>').description('issue a new signing secret (shown once); the old one stops signing at once')
    .option('--json', 'print JSON').action(async (id, o) => {
      print(o.json, await op('webhooks.rotate-secret', { id }), (r) => `secret: ${r.secret}   (shown once: store it now)`);
    });
  hooks.command('enable <id>').description('re-enable an endpoint that was disabled (after a day of failures, or by hand)')
    .option('--json', 'print JSON').action(async (id, o) => {
      print(o.json, await op('webhooks.enable', { id }), endpointHuman);
    });
  hooks.command('disable <id>').description('stop sending to an endpoint (queued messages wait; events meanwhile are not queued for it)')
    .option('--json', 'print JSON').action(async (id, o) => {
      print(o.json, await op('webhooks.disable', { id }), endpointHuman);
    });
  hooks.command('test <id>').description('send a signed ping (event type webhook.test) now and show the answer')
    .option('--json', 'print JSON').action(async (id, o) => {
      print(o.json, await op('webhooks.test', { id }), (r) => r.ok
        ? `Ping delivered: ${r.status_code} in ${r.latency_ms} ms.`
        : `Ping failed: ${r.status_code ? `HTTP ${r.status_code}` : printable(String(r.error))} after ${r.latency_ms} ms.`);
    });
  hooks.command('deliveries <id>').description('the delivery log of an endpoint, newest first')
    .addOption(new Option('--limit <n>', 'how many').argParser(count('limit', 100)).default(20))
    .addOption(new Option('--offset <n>', 'skip this many').argParser(count('offset', 1_000_000)).default(0))
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      print(o.json, await op('webhooks.deliveries', { id, limit: o.limit, offset: o.offset }), deliveryRows);
    });
  hooks.command('replay <id>').description('send the endpoint\'s failed messages again (e.g. after re-enabling it)')
    .option('--since <date-time>', 'only messages created since (ISO 8601)')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      print(o.json, await op('webhooks.replay', { id, since: o.since }), (r) => `Queued ${r.replayed} message${r.replayed === 1 ? '' : 's'} again.`);
    });
}
