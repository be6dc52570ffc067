/**
 * `qataseg copy-project SOURCE DESTINATION [--json]`: copies a project (database and model
 * versions) to a new folder, typically from a network folder to a local disk where it can be
 * opened for writing. The source is left as it was.
 */
import type { Command } from 'commander';
import { CopyRefusedError, copyProject } from '../../core/project/copy';
import { fail, printJson } from '../output';
import { plural } from '../../shared/plural';

export function register(program: Command): void {
  program
    .command('copy-project')
    .description('copy a project to a new folder (e.g. from a network folder to a local disk)')
    .argument('<source>', 'project folder to copy (only read)')
    .argument('<destination>', 'new or empty folder on a local disk')
    .option('--json', 'print the result as JSON')
    .action(async (source: string, destination: string, options: { json?: boolean }) => {
      try {
        const result = await copyProject(source, destination);
        if (options.json) printJson(result);
        else {
          process.stdout.write(
            `Copied ${result.source} to ${result.destination}: ${plural(result.images, 'image')}, ${plural(result.models, 'model version')}, ${(result.databaseBytes / 1e6).toFixed(1)} MB of database.\n` +
              `Work on the copy (qataseg serve --project ${result.destination}); the original was left as it was.\n`,
          );
        }
      } catch (error) {
        if (error instanceof CopyRefusedError) fail(error.message);
        throw error;
      }
    });
}
