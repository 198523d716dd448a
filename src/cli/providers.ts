// `gatehouse providers …`: the upstream identity providers users may sign in through ("Continue with
// Google", the company's IdP). See docs/providers.md. Secrets only from standard input, never shown.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.ts';
import { runOp } from './operator-stores.ts';

const PRESET_CHOICES = ['google', 'microsoft', 'github', 'gitlab'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

const bool = (v: string): boolean => {
  if (/^(true|yes|on|1)$/i.test(v)) return true;
  if (/^(false|no|off|0)$/i.test(v)) return false;
  throw new InvalidArgumentError('true or false');
};
const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
const whole = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a whole number');
  return Number(v);
};
const json = (v: string): unknown => {
  try { return JSON.parse(v); } catch { throw new InvalidArgumentError('JSON, e.g. \'[{"claim":"groups","workspace":"team-{value}","role":"member"}]\''); }
};

function print(asJson: boolean, value: unknown, human: (v: any) => string): void {
  process.stdout.write(asJson ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
}
const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const onOff = (b: boolean) => (b ? 'yes' : 'no');
const human = (p: any) => [
  `name:                  ${p.name}   (${p.kind}${p.enabled ? '' : ', disabled'})`,
  `display name:          ${p.display_name}`,
  `issuer:                ${p.issuer ?? '- (OAuth 2.0: endpoints)'}`,
  `client_id:             ${p.client_id}`,
  `authentication:        ${p.token_endpoint_auth_method}${p.has_client_secret ? ' (secret stored, encrypted)' : ''}`,
  `scopes:                ${p.scopes.join(' ')}`,
  `creates accounts:      ${onOff(p.allow_signup)}`,
  `email domains:         ${p.allowed_email_domains.join(', ') || 'any'}`,
  `trusts email_verified: ${onOff(p.trust_email_verified)}`,
  `trusts upstream MFA:   ${onOff(p.trust_mfa)}`,
  `offered by apps:       ${p.client_ids.join(', ') || 'all'}`,
  `home-realm domains:    ${p.home_realm_domains.join(', ') || '-'}`,
  ...(p.kind === 'microsoft' ? [`tenant:                ${p.tenant}${p.tenants.length ? `  (admits ${p.tenants.join(', ')})` : ''}`] : []),
  ...(p.kind === 'google' ? [`hosted domain:         ${p.hosted_domain ?? 'any'}`] : []),
  `organisation sync:     ${p.org_sync.length ? `${p.org_sync.length} rule${p.org_sync.length === 1 ? '' : 's'}` : '-'}`,
  `source:                ${p.source}`,
  '',
  `Register this redirect URI with the provider:`,
  `  ${p.callback_url}`,
  ...(p.public_jwks ? ['', 'Register this public key (JWKS) with the provider for private_key_jwt:', `  ${JSON.stringify(p.public_jwks)}`] : []),
].join('\n');

/** The options `add` and `update` share; each maps to one field of the registration. */
function registrationOptions(cmd: Command): Command {
  return cmd
    .option('--display-name <text>', 'the button\'s name ("Continue with …"); default: the preset\'s, or the name')
    .option('--issuer <url>', 'the OpenID issuer (discovery at {issuer}/.well-known/openid-configuration); https')
    .option('--client-id <id>', 'the client id Gatehouse was given upstream')
    .option('--client-secret-stdin', 'read the client secret from standard input (never an argument: arguments show in ps)')
    .addOption(new Option('--auth-method <method>', 'how Gatehouse authenticates at the token endpoint').choices(AUTH_METHODS))
    .option('--scopes <scopes>', 'space- or comma-separated scopes to ask for (default: the preset\'s)')
    .option('--allow-signup [bool]', 'a first sign-in creates an account (just-in-time provisioning); default false', bool)
    .option('--allowed-email-domains <list>', 'only emails at these domains may sign in (comma-separated; "" for any)', list)
    .option('--trust-email-verified [bool]', 'trust the upstream\'s email_verified (needed for automatic linking)', bool)
    .option('--trust-mfa [bool]', 'an upstream amr/acr showing a second factor satisfies require_mfa', bool)
    .option('--client-ids <list>', 'the apps (client ids) that offer this provider; "" for all', list)
    .option('--logout-upstream [bool]', 'signing out of Gatehouse signs out upstream too', bool)
    .option('--home-realm-domains <list>', 'emails at these domains go straight to this provider', list)
    .option('--tenant <tenant>', 'microsoft: a tenant id or domain, or common, organizations, consumers')
    .option('--tenants <list>', 'microsoft multi-tenant: the only tenant ids admitted ("" for any)', list)
    .option('--hosted-domain <domain>', 'google: only accounts of this Workspace domain')
    .option('--order <n>', 'the button\'s place (lower first; default 100)', whole)
    .option('--icon <path>', 'an icon under /assets/ instead of the preset\'s')
    .option('--authorization-endpoint <url>', 'override the authorization endpoint (GitHub Enterprise, tests)')
    .option('--token-endpoint <url>', 'override the token endpoint')
    .option('--userinfo-endpoint <url>', 'override the userinfo / user API endpoint')
    .option('--emails-endpoint <url>', 'github: override the emails API endpoint')
    .option('--org-sync <json>', 'organisation-sync rules as a JSON array (docs/providers.md)', json)
    .option('--enabled [bool]', 'offer it on sign-in pages', bool)
    .option('--json', 'print JSON');
}

async function fieldsOf(o: Record<string, any>): Promise<Record<string, unknown>> {
  const endpoints = Object.fromEntries(([
    ['authorization_endpoint', o.authorizationEndpoint], ['token_endpoint', o.tokenEndpoint],
    ['userinfo_endpoint', o.userinfoEndpoint], ['emails_endpoint', o.emailsEndpoint],
  ] as const).filter(([, v]) => v !== undefined));
  return {
    display_name: o.displayName, issuer: o.issuer, client_id: o.clientId,
    client_secret: o.clientSecretStdin ? await readStdin() : undefined,
    token_endpoint_auth_method: o.authMethod, scopes: o.scopes, allow_signup: o.allowSignup,
    allowed_email_domains: o.allowedEmailDomains, trust_email_verified: o.trustEmailVerified, trust_mfa: o.trustMfa,
    client_ids: o.clientIds, logout_upstream: o.logoutUpstream, home_realm_domains: o.homeRealmDomains,
    tenant: o.tenant, tenants: o.tenants, hosted_domain: o.hostedDomain, order: o.order, icon: o.icon,
    endpoints: Object.keys(endpoints).length ? endpoints : undefined, org_sync: o.orgSync, enabled: o.enabled,
  };
}

export function addProviderCommands(program: Command): void {
  const op = (name: string, args: Record<string, unknown>) => runOp(loadConfig(), name, args);
  const providers = program.command('providers').description('manage upstream identity providers (sign in with Google, GitHub, Microsoft, or any OpenID provider)');

  registrationOptions(providers.command('add').description('register an upstream provider; prints the callback URL to register upstream')
    .requiredOption('--name <name>', 'a short stable name: 2–63 lower-case letters, digits, hyphens (it is in the callback URL; never renamed)')
    .addOption(new Option('--preset <kind>', 'a provider Gatehouse knows (default: any OpenID provider by --issuer)').choices(PRESET_CHOICES)))
    .action(async (o) => {
      const fields = { name: o.name, kind: o.preset ?? 'oidc', ...await fieldsOf(o) };
      print(o.json, await op('providers.add', { fields }), human);
    });

  providers.command('list').description('list upstream providers').option('--json', 'print JSON').action(async (o) => {
    const rows = await op('providers.list', {}) as any[];
    print(o.json, rows, (r: any[]) => r.length ? table([['NAME', 'KIND', 'DISPLAY NAME', 'ISSUER', 'SIGNUP', 'APPS', 'STATUS', 'SOURCE'],
      ...r.map((p) => [p.name, p.kind, p.display_name, p.issuer ?? '-', onOff(p.allow_signup), p.client_ids.join(',') || 'all', p.enabled ? 'enabled' : 'disabled', p.source])]) : 'No upstream providers yet.');
  });

  providers.command('show <name>').description('show one provider (never its secret)').option('--json', 'print JSON').action(async (name, o) => {
    print(o.json, await op('providers.show', { name }), human);
  });

  registrationOptions(providers.command('update <name>').description('change a provider: what is not given stays (the name and kind never change)')
    .option('--rotate-key', 'private_key_jwt: a new key pair (register the new public key upstream)'))
    .action(async (name, o) => {
      const fields = { ...await fieldsOf(o), rotate_key: o.rotateKey ? true : undefined };
      print(o.json, await op('providers.update', { name, fields }), human);
    });

  providers.command('remove <name>').description('remove a provider and the identities linked through it; refused while a user would be left with no way to sign in')
    .option('--force', 'remove it even so (those users must reset a password or be helped by an admin)')
    .option('--json', 'print JSON')
    .action(async (name, o) => {
      print(o.json, await op('providers.remove', { name, force: !!o.force }), (r) =>
        `Removed ${r.deleted}: ${r.linked_users} user${r.linked_users === 1 ? '' : 's'} lost the identity linked through it${r.only_through_provider ? ` (${r.only_through_provider} now without any way to sign in)` : ''}.`);
    });
}
