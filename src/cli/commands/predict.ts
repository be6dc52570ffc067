/** `qataseg predict`: probability maps of a model version, stored as prediction revisions. */
import type { Command } from 'commander';
import { fail, printJson } from '../output';
import type { SkippedImage } from '../../shared/contract-ml';
import {
  BACKEND_CHOICES,
  followJob,
  openService,
  skippedLines,
  type CommonOptions,
} from './ml-shared';
import { plural } from '../../shared/plural';

interface PredictOptions extends CommonOptions {
  model?: string;
  images?: string;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict masks with a model version (default: the active one) and store them')
    .option('--project <dir>', 'project folder')
    .option('--model <version>', 'model version (default: active)')
    .option('--images <ids>', 'comma list of image ids (default: all images)')
    .option('--backend <name>', BACKEND_CHOICES, 'auto')
    .option('--json', 'JSON lines: progress events and a final result')
    .action(async (options: PredictOptions) => {
      const service = await openService(options, 'This prediction');
      try {
        const imageIds = options.images?.split(',').map((id) => {
          const number = Number(id);
          if (!Number.isInteger(number) || number <= 0) fail(`not an image id: ${id}`);
          return number;
        });
        const job = await service.invoke('predict.start', { model: options.model, imageIds });
        const finished = await followJob(service, job, { json: options.json });
        if (finished.state !== 'succeeded') {
          if (options.json)
            printJson({ event: 'end', state: finished.state, error: finished.error });
          fail(
            `prediction ${finished.state}: ${finished.error}`,
            finished.state === 'cancelled' ? 130 : 1,
          );
        }
        const result = finished.result as {
          version: string;
          saved: number;
          skipped: SkippedImage[];
          total: number;
        };
        if (options.json) printJson({ event: 'end', state: 'succeeded', ...result });
        else {
          process.stdout.write(
            `${result.version}: ${plural(result.saved, 'prediction')} stored\n${skippedLines(result.skipped)}`,
          );
        }
      } finally {
        service.close();
      }
    });
}
