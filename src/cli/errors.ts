// The CLI's one error: a sentence for stderr and the exit code. Its own module, free of database
// and server imports, so the user commands (gatehouse token in a $(…)) start in a blink.
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) { super(message); this.exitCode = exitCode; }
}
