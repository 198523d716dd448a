// gatehouse: operator commands (database) and user commands (device flow sign-in, src/cli/user/).
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { AppError } from '../errors/app-error.ts';
import { addUserCommands, USER_COMMANDS } from './user/index.ts';
import { CliError } from './errors.ts';

const program = new Command('gatehouse')
  .description('Gatehouse identity provider: operate the server, and sign in from a terminal')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
// the operator commands load the whole server (database, provider): not for `$(gatehouse token)`
if (!USER_COMMANDS.has(process.argv[2] ?? '')) (await import('./operator.ts')).addOperatorCommands(program);
addUserCommands(program);

/** 4: not found; 75 (EX_TEMPFAIL): a store was unavailable, run the same command again; 2: the rest. */
function exitCodeOf(e: AppError): number {
  if (e.status === 404) return 4;
  if (e.status === 503) return 75;
  return 2;
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2); // help: 0; usage errors: 2
  if (e instanceof AppError || e instanceof CliError || e instanceof ConfigError) {
    process.stderr.write(`gatehouse: ${e.message}\n`);
    process.exit(e instanceof AppError ? exitCodeOf(e) : e instanceof CliError ? e.exitCode : 2);
  }
  process.stderr.write(`gatehouse: ${(e as Error).message}\n`);
  process.exit(1);
}
