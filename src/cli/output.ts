/** Small helpers shared by CLI commands: JSON output, one-line errors, exit codes. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A user error: printed as one line, exit code 2 (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function fail(message: string, exitCode = 2): never {
  throw new CliError(message, exitCode);
}
