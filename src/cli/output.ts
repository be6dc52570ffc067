import type { JobReporter } from '../core/job-reporter';

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

/** A job reporter that draws progress on stderr, a few lines a second, only on a terminal. */
export function terminalReporter(signal: AbortSignal, defaultPhase: string): JobReporter {
  let last = 0;
  return {
    signal,
    progress: (update) => {
      if (!process.stderr.isTTY) return;
      const now = Date.now();
      if (now - last < 250 && update.phase === undefined) return;
      last = now;
      const count = update.total ? `${update.done ?? 0}/${update.total}` : '';
      process.stderr.write(`\r${update.phase ?? defaultPhase} ${count}`.padEnd(60));
    },
  };
}

/**
 * Runs long work in this process with its progress on the terminal and Ctrl-C as cancel: the line
 * is cleared when it ends and a failure starts on a line of its own.
 */
export async function withTerminalProgress<T>(
  defaultPhase: string,
  run: (reporter: JobReporter) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const result = await run(terminalReporter(controller.signal, defaultPhase));
    if (process.stderr.isTTY) process.stderr.write('\r'.padEnd(61) + '\r');
    return result;
  } catch (error) {
    if (process.stderr.isTTY) process.stderr.write('\n');
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
