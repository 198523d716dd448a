// Operator commands: clients, users, keys, migrate, serve. Each prints a readable summary, or
// JSON with --json; errors are one sentence on stderr and a non-zero exit.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.ts';
import { runOp, CliError } from './operator-stores.ts';
import { addResourceCommands } from './resources.ts';
import { addWebhookCommands } from './webhooks.ts';
import { addUserTransferCommands } from './users-transfer.ts';
import { addProviderCommands } from './providers.ts';

const seconds = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(v);
};
const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function print(json: boolean, value: unknown, human: (v: any) => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
}

const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

const clientHuman = (c: any) => [
  `client_id:      ${c.client_id}`,
  ...(c.client_secret ? [`client_secret:  ${c.client_secret}   (shown once: store it now)`] : []),
  `name:           ${c.client_name}`,
  `type:           ${c.token_endpoint_auth_method === 'none' ? 'public (PKCE, no secret)' : 'confidential'}`,
  `grant types:    ${c.grant_types.join(', ')}`,
  `redirect URIs:  ${c.redirect_uris.join(', ') || '-'}`,
  `logout URIs:    ${c.post_logout_redirect_uris.join(', ') || '-'}`,
  `scopes:         ${c.scope}`,
].join('\n');

const userHuman = (u: any) => `${u.id}  ${u.email}${u.roles.length ? `  [${u.roles.join(', ')}]` : ''}${u.disabled ? '  (disabled)' : ''}`;

async function readPassword(opts: { password?: string; passwordStdin?: boolean }): Promise<string | undefined> {
  if (opts.password !== undefined) return opts.password;
  if (!opts.passwordStdin) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function addOperatorCommands(program: Command): void {
  const op = (name: string, args: Record<string, unknown>) => runOp(loadConfig(), name, args);

  const clients = program.command('clients').description('manage OAuth clients (applications)');
  clients.command('create').description('register a client')
    .requiredOption('--name <name>', 'display name shown on the consent page')
    .option('--redirect-uri <uri>', 'redirect URI (repeatable or comma-separated)', list, [])
    .option('--post-logout-redirect-uri <uri>', 'where RP-initiated logout may return (repeatable)', list, [])
    .option('--grant-types <list>', 'authorization_code,refresh_token,client_credentials,device_code', list)
    .option('--scopes <scopes>', 'space-separated scopes the client may ask for')
    .option('--public', 'public client: no secret, PKCE only (SPAs, mobile, CLIs)')
    .option('--client-id <id>', 'choose the client_id (default: random)')
    .addOption(new Option('--id-token-alg <alg>', 'ID token signing algorithm').choices(['RS256', 'ES256']))
    .option('--require-mfa', 'users must pass a second factor to sign in to this client')
    .option('--require-email-verification', 'users must have a verified email to sign in to this client')
    .option('--no-password-sign-in', 'the sign-in page offers no password: only the upstream providers this client offers')
    .option('--resource-server-for <uri>', 'this client is the resource server for this resource indicator and may introspect tokens meant for it (repeatable)', list, [])
    .addOption(new Option('--signup-policy <policy>', 'who may create an account on its sign-in page (default: GATEHOUSE_SIGNUP)').choices(['open', 'invitation', 'closed']))
    .option('--logo-uri <uri>', 'https logo shown on its sign-in and consent pages')
    .option('--policy-uri <uri>', 'https privacy policy linked from its sign-in and consent pages')
    .option('--tos-uri <uri>', 'https terms of service linked from its sign-in and consent pages')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const result = await op('clients.create', {
        signup_policy: o.signupPolicy, logo_uri: o.logoUri, policy_uri: o.policyUri, tos_uri: o.tosUri,
        require_mfa: !!o.requireMfa, require_email_verification: !!o.requireEmailVerification, resource_server_for: o.resourceServerFor,
        password_sign_in: o.passwordSignIn !== false,
        name: o.name, redirect_uris: o.redirectUri, post_logout_redirect_uris: o.postLogoutRedirectUri,
        grant_types: o.grantTypes, scope: o.scopes, public: !!o.public, client_id: o.clientId, id_token_signed_response_alg: o.idTokenAlg,
      });
      print(o.json, result, clientHuman);
    });
  clients.command('list').description('list clients').option('--json', 'print JSON').action(async (o) => {
    const result = await op('clients.list', {}) as any[];
    print(o.json, result, (rows) => rows.length ? table([['CLIENT_ID', 'NAME', 'TYPE', 'GRANTS'], ...rows.map((c: any) => [c.client_id, c.client_name, c.token_endpoint_auth_method === 'none' ? 'public' : 'confidential', c.grant_types.join(',')])]) : 'No clients yet.');
  });
  clients.command('show <client_id>').description('show one client').option('--json', 'print JSON').action(async (id, o) => {
    print(o.json, await op('clients.show', { client_id: id }), clientHuman);
  });
  clients.command('delete <client_id>').description('delete a client').option('--json', 'print JSON').action(async (id, o) => {
    print(o.json, await op('clients.delete', { client_id: id }), () => `Deleted client ${id}.`);
  });
  clients.command('rotate-secret <client_id>').description('issue a new client secret (the old one stops working)').option('--json', 'print JSON').action(async (id, o) => {
    print(o.json, await op('clients.rotate-secret', { client_id: id }), (r) => `client_secret: ${r.client_secret}   (shown once: store it now)`);
  });

  const users = program.command('users').description('manage user accounts');
  users.command('create').description('create a user')
    .requiredOption('--email <email>', 'email address (the sign-in name)')
    .option('--password <password>', 'initial password (prefer --password-stdin: arguments show in ps)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--name <name>', 'display name')
    .option('--admin', 'give the global admin role')
    .option('--verified', 'mark the email as verified')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const password = await readPassword(o);
      print(o.json, await op('users.create', { email: o.email, password, name: o.name, admin: !!o.admin, verified: !!o.verified }), userHuman);
    });
  users.command('list').description('list users').option('--limit <n>', 'page size', '100').option('--offset <n>', 'skip', '0').option('--json', 'print JSON')
    .action(async (o) => {
      const rows = await op('users.list', { limit: Number(o.limit), offset: Number(o.offset) }) as any[];
      print(o.json, rows, (r) => r.length ? table([['ID', 'EMAIL', 'NAME', 'VERIFIED', 'ROLES', 'STATUS'], ...r.map((u: any) => [
        u.id, u.email, u.name ?? '-', u.email_verified ? 'yes' : 'no', u.roles.join(',') || '-', u.disabled ? 'disabled' : 'active',
      ])]) : 'No users yet.');
    });
  for (const [name, what] of [['show', 'show a user'], ['disable', 'disable a user (no sign-in, no tokens)'], ['enable', 'enable a disabled user']] as const) {
    users.command(`${name} <id-or-email>`).description(what).option('--json', 'print JSON').action(async (ref, o) => {
      print(o.json, await op(`users.${name}`, { user: ref }), userHuman);
    });
  }

  users.command('require-mfa <id-or-email>').description('require two-step verification for a user (they enrol at their next sign-in)')
    .option('--off', 'stop requiring it').option('--json', 'print JSON')
    .action(async (ref, o) => {
      print(o.json, await op('users.require-mfa', { user: ref, required: !o.off }), userHuman);
    });

  const keys = program.command('keys').description('manage signing keys');
  const when = (d: string | null | undefined) => (d ? new Date(d).toISOString() : '-');
  keys.command('list').description('list signing keys: pending (published, signs from ACTIVATES), active (signs), retired (published until EXPIRES)')
    .option('--json', 'print JSON').action(async (o) => {
      const rows = await op('keys.list', {}) as any[];
      print(o.json, rows, (r) => table([['KID', 'ALG', 'STATUS', 'CREATED', 'ACTIVATES', 'RETIRES', 'EXPIRES'], ...r.map((k: any) => [k.kid, k.alg, k.status, when(k.createdAt), when(k.activatesAt), when(k.retiredAt), when(k.expiresAt)])]));
    });
  keys.command('rotate').description('publish new signing keys now and sign with them after the activation delay (GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS); old keys sign until then and stay published until their tokens expire')
    .addOption(new Option('--alg <alg>', 'rotate one algorithm only').choices(['RS256', 'ES256']))
    .addOption(new Option('--activate-in <seconds>', 'sign with the new keys after this many seconds instead of the configured delay').argParser(seconds))
    .addOption(new Option('--now', 'sign with the new keys at once (a compromised key; relying parties may briefly see an unknown kid)').conflicts('activateIn'))
    .option('--json', 'print JSON')
    .action(async (o) => {
      const r = await op('keys.rotate', { alg: o.alg, activate_in: o.now ? 0 : o.activateIn }) as { rotated: string[]; activatesAt: string };
      print(o.json, r, () => `New signing keys ${r.rotated.join(', ')}: published now, signing ${new Date(r.activatesAt) <= new Date() ? 'now' : `from ${when(r.activatesAt)}`}.`);
    });
  keys.command('revoke <kid>').description('withdraw a key from the JWKS at once (a compromised key): tokens it signed stop verifying. Not the key that signs now: rotate with --now first')
    .option('--json', 'print JSON')
    .action(async (kid, o) => {
      print(o.json, await op('keys.revoke', { kid }), (r) => `Revoked ${r.revoked} (${r.alg}, was ${r.was}): withdrawn from the JWKS of every node within GATEHOUSE_KEY_REFRESH_SECONDS.`);
    });

  const workspaces = program.command('workspaces').description('manage workspaces and their members');
  const workspaceHuman = (w: any) => `${w.id}  ${w.slug}  ${w.name}${w.role ? `  [${w.role}]` : ''}`;
  const memberHuman = (m: any) => `${m.email} is ${m.role === 'admin' || m.role === 'owner' ? 'an' : 'a'} ${m.role}`;
  workspaces.command('create').description('create a workspace with its first owner')
    .requiredOption('--slug <slug>', 'unique short name: 2–63 lower-case letters, digits and hyphens')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--owner <email>', 'the first owner: an existing user, by email or id')
    .option('--json', 'print JSON')
    .action(async (o) => {
      print(o.json, await op('workspaces.create', { slug: o.slug, name: o.name, owner: o.owner }), workspaceHuman);
    });
  workspaces.command('list').description('list workspaces').option('--json', 'print JSON').action(async (o) => {
    const rows = await op('workspaces.list', {}) as any[];
    print(o.json, rows, (r) => r.length ? table([['ID', 'SLUG', 'NAME', 'MEMBERS', 'OWNERS'], ...r.map((w: any) => [w.id, w.slug, w.name, String(w.members), w.owners.join(',')])]) : 'No workspaces yet.');
  });
  workspaces.command('add-member').description('add a user to a workspace, or change the role of a member')
    .requiredOption('--workspace <id-or-slug>', 'the workspace')
    .requiredOption('--email <email>', 'the user: an existing account')
    .addOption(new Option('--role <role>', 'their role').choices(['owner', 'admin', 'member']).default('member'))
    .option('--json', 'print JSON')
    .action(async (o) => {
      print(o.json, await op('workspaces.add-member', { workspace: o.workspace, email: o.email, role: o.role }), memberHuman);
    });
  workspaces.command('remove-member').description('remove a user from a workspace (never its last owner)')
    .requiredOption('--workspace <id-or-slug>', 'the workspace')
    .requiredOption('--email <email>', 'the member')
    .option('--json', 'print JSON')
    .action(async (o) => {
      print(o.json, await op('workspaces.remove-member', { workspace: o.workspace, email: o.email }), () => `Removed ${o.email} from ${o.workspace}.`);
    });

  addResourceCommands(program);
  addWebhookCommands(program, op);
  addUserTransferCommands(program, op);
  addProviderCommands(program);

  program.command('migrate').description('apply database migrations').action(async () => {
    const config = loadConfig();
    if (!config.databaseUrl) throw new CliError('migrate applies to DATABASE_URL; the embedded database is migrated whenever it is opened.');
    const { openDatabase } = await import('../storage/database.ts');
    const { migrateLatest } = await import('../storage/migrate.ts');
    const db = openDatabase(config);
    try { const applied = await migrateLatest(db.knex, { directUrl: config.databaseDirectUrl }); console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.'); } finally { await db.close(); }
  });
  program.command('serve').description('start the server (same as npm start)').action(async () => {
    const { main } = await import('../main.ts');
    await main();
  });
}
