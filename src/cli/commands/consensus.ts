/**
 * `qataseg consensus --project DIR --method staple|vote [--plan ID] [--json]`: computes and stores
 * each image's consensus of a reading plan's readers (default: the latest active plan) as the
 * `consensus.run` job of the Service that has the project; Ctrl-C cancels between images.
 */
import type { Command } from 'commander';
import { consensusRunResultSchema } from '../../shared/agreement-schemas';
import { plural } from '../../shared/plural';
import { fail, printJson } from '../output';
import { isRefusal, openSession } from '../project-access';
import { followJob, parseInteger } from './ml-shared';
import { parseMethod } from './agreement';

interface ConsensusOptions {
  project: string;
  method: string;
  plan?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('consensus')
    .description("compute and store each image's consensus of a reading plan (STAPLE or vote)")
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--method <method>', 'staple|vote')
    .option('--plan <id>', 'the reading plan (default: the latest active plan)')
    .option('--json', 'print progress and the result as JSON lines')
    .action(async (options: ConsensusOptions) => {
      const method = parseMethod(options.method);
      const planId = options.plan === undefined ? undefined : parseInteger(options.plan);
      const session = await openSession(options.project, 'auto', 'This consensus');
      try {
        let started;
        try {
          started = await session.invoke('consensus.run', { planId, method });
        } catch (error) {
          if (isRefusal(error)) fail(error.message, 2);
          throw error;
        }
        const job = await followJob(session, started, { json: options.json });
        if (job.state === 'cancelled') fail('consensus cancelled', 130);
        if (job.state !== 'succeeded') fail(`consensus failed: ${job.error}`, 1);
        const result = consensusRunResultSchema.parse(job.result);
        if (options.json) {
          printJson(result);
          return;
        }
        process.stdout.write(
          `Stored the ${method} consensus of ${plural(result.stored, 'image')} of plan ${result.planId}` +
            `${result.allEmpty > 0 ? ` (${result.allEmpty} left empty by every reader)` : ''}\n`,
        );
        if (result.skipped.length > 0) {
          process.stdout.write(`skipped ${plural(result.skipped.length, 'image')}:\n`);
          for (const item of result.skipped)
            process.stdout.write(`  ${item.name}: ${item.reason}\n`);
        }
      } finally {
        session.close();
      }
    });
}
