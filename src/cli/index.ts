// gatehouse: operator commands (database) and, later, user commands (device flow sign-in).
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { AppError } from '../http/errors.ts';
import { addOperatorCommands } from './operator.ts';
import { CliError } from './store.ts';

const program = new Command('gatehouse')
  .description('Gatehouse identity provider: operate the server, and sign in from a terminal')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
addOperatorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof AppError || e instanceof CliError || e instanceof ConfigError) {
    process.stderr.write(`gatehouse: ${e.message}\n`);
    process.exit(e instanceof AppError && e.status === 404 ? 4 : e instanceof CliError ? e.exitCode : 2);
  }
  process.stderr.write(`gatehouse: ${(e as Error).message}\n`);
  process.exit(1);
}
