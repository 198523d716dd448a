// User commands: sign in to an issuer from a terminal (device flow) and use the tokens. They talk
// to the issuer over HTTP, never to a database, and keep their tokens in the user's config folder.
import { Command } from 'commander';
import { DEFAULT_SCOPE, login } from './login.ts';
import { token } from './token.ts';
import { whoami } from './whoami.ts';
import { logout } from './logout.ts';
import { checkProfileName, DEFAULT_PROFILE } from './credential-store.ts';

/** The names of these commands: index.ts loads the operator commands only for the others. */
export const USER_COMMANDS = new Set(['login', 'token', 'whoami', 'logout']);

const profileOption = (c: Command) => c.option('--profile <name>', 'which saved sign-in to use (several issuers or accounts can be kept)', process.env.GATEHOUSE_PROFILE || DEFAULT_PROFILE);
const profileOf = (o: { profile: string }) => checkProfileName(o.profile);

export function addUserCommands(program: Command): void {
  profileOption(program.command('login').description('sign in to an issuer from this terminal (device flow)'))
    .option('--issuer <url>', 'the Gatehouse issuer URL, e.g. https://id.example.com (default: the profile\'s)')
    .option('--client-id <id>', 'the client registered for the CLI (default: the profile\'s)')
    .option('--scope <scopes>', 'space-separated scopes to ask for', DEFAULT_SCOPE)
    .option('--workspace <slug>', 'ask for this workspace (sent as the workspace authorization parameter)')
    .option('--no-browser', 'do not offer to open a browser')
    .option('--no-qr', 'do not draw the QR code')
    .action(async (o) => login({
      issuer: o.issuer, clientId: o.clientId, scope: o.scope, workspace: o.workspace,
      profile: profileOf(o), browser: o.browser, qr: o.qr,
    }));

  profileOption(program.command('token').description('print a valid access token, refreshing it if it has expired'))
    .action(async (o) => token({ profile: profileOf(o) }));

  profileOption(program.command('whoami').description('show who you are signed in as, and in which workspace'))
    .option('--json', 'print JSON (the userinfo claims)')
    .action(async (o) => whoami({ profile: profileOf(o), json: !!o.json }));

  profileOption(program.command('logout').description('revoke the session at the issuer and delete the local credentials'))
    .option('--local', 'only delete the local credentials (when the issuer cannot be reached)')
    .action(async (o) => logout({ profile: profileOf(o), local: !!o.local }));
}
