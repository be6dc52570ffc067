/**
 * `qataseg audit --project DIR [--user NAME] [--limit N] [--json]`: who saved, reviewed, promoted,
 * exported or changed users, and when (newest first). `--user owner` lists what the project's
 * owner did (single-user mode, the CLI).
 */
import type { Command } from 'commander';
import { isRefusal, openSession } from '../project-access';
import { fail, printJson } from '../output';

export function register(program: Command): void {
  program
    .command('audit')
    .description('the audit trail: who did what, and when (newest first)')
    .requiredOption('--project <dir>', 'project folder')
    .option('--user <name>', "only this user's actions ('owner': the project's owner)")
    .option('--limit <n>', 'at most this many entries', '1000')
    .option('--json', 'print the entries as JSON')
    .action(async (options: { project: string; user?: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        fail(`--limit must be 1..10000, got ${options.limit}`);
      const session = await openSession(options.project, 'auto', 'Reading the audit trail', {
        reader: true,
      });
      try {
        const entries = await session.invoke('audit.list', { user: options.user, limit });
        if (options.json) {
          printJson(entries);
          return;
        }
        if (entries.length === 0) process.stdout.write('no audited actions\n');
        for (const entry of entries) {
          const image = entry.imageId === null ? '' : ` image ${entry.imageId}`;
          const detail = entry.detail === null ? '' : ` ${JSON.stringify(entry.detail)}`;
          process.stdout.write(
            `${entry.at}  ${entry.userName}  ${entry.action}${image}${detail}\n`,
          );
        }
      } catch (error) {
        if (isRefusal(error)) fail(error.message);
        throw error;
      } finally {
        session.close();
      }
    });
}
