/**
 * `qataseg`: the workstation's command line. Each subcommand lives in ./commands and registers
 * itself on the program; they all host `core` in this process (and the ML worker beside it).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { commandModules } from './commands';
import { CliError } from './output';
import { ProjectFileError } from '../core/project/store';
import { ProjectLockedError } from '../core/project/lock';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('qataseg')
    .description(
      'QaTa Seg Workstation: review, correct and retrain U-Net segmentations of chest X-rays',
    )
    .version(version)
    .showHelpAfterError();
  for (const module of commandModules) module.register(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`qataseg: ${error instanceof Error ? error.message : String(error)}\n`);
    // A project folder refused as it is: nothing was changed, like any other refusal.
    if (error instanceof ProjectFileError || error instanceof ProjectLockedError) process.exit(2);
    process.exit(error instanceof CliError ? error.exitCode : 1);
  });
