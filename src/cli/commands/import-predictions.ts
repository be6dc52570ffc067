/**
 * `qataseg import-predictions DIR --project DIR --name NAME [--probability] [--json]`: a folder
 * of masks or probability maps made elsewhere (PNG, NIfTI, DICOM SEG) as a model version, paired to the
 * project's images by name like `qataseg import`, with the same report.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ApiError } from '../../shared/contract';
import {
  importPredictionsResultSchema,
  type ImportPredictionsResult,
} from '../../shared/interop-schemas';
import { fail, printJson } from '../output';
import { followJob, openService, type CommonOptions } from './ml-shared';

interface ImportPredictionsOptions extends CommonOptions {
  name?: string;
  probability?: boolean;
}

function summary(result: ImportPredictionsResult): string {
  const { report } = result;
  const splits = Object.entries(report.splits)
    .filter(([, n]) => n > 0)
    .map(([split, n]) => `${split} ${n}`)
    .join(', ');
  const lines = [
    `Imported predictions ${result.version} from ${result.folder} in ${result.seconds.toFixed(1)} s`,
    `  pairs ${report.pairs}, images without prediction ${report.imagesWithoutMask}, files matching no image ${report.orphanMasks}`,
    `  splits: ${splits || 'none'}`,
    `  test Dice ${result.testDice === null ? '-' : result.testDice.toFixed(4)} on ${result.testImages} images of the locked test split${result.missingTest ? ` (${result.missingTest} test images have no prediction)` : ''}`,
  ];
  for (const [title, items] of [
    ['skipped', report.skipped.map((s) => `${s.path}: ${s.reason}`)],
    ['warnings', report.warnings.map((w) => `${w.path}: ${w.message}`)],
  ] as const) {
    if (items.length === 0) continue;
    lines.push(`  ${title} ${items.length}:`);
    for (const item of items.slice(0, 20)) lines.push(`    ${item}`);
    if (items.length > 20) lines.push(`    ... and ${items.length - 20} more (--json)`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('import-predictions')
    .description(
      'import a folder of predicted masks or probability maps (PNG, NIfTI) as a model version',
    )
    .argument('<dir>', 'folder of predictions (read only)')
    .option('--project <dir>', 'project folder')
    .requiredOption('--name <version>', 'version name of the predictions')
    .option(
      '--probability',
      'the files are probability maps (8/16-bit PNG, 0..1 NIfTI), not binary masks',
    )
    .option('--json', 'print the result (version, report, test figures) as JSON')
    .action(async (dir: string, options: ImportPredictionsOptions) => {
      const service = await openService(
        { ...options, backend: 'auto' },
        'This import of predictions',
      );
      try {
        const job = await service
          .invoke('predictions.import', {
            // The shell's working folder: the service resolves relative paths against the project.
            folder: path.resolve(dir),
            name: options.name ?? '',
            probability: options.probability ?? false,
          })
          .catch((error: unknown) => {
            if (error instanceof ApiError && error.code !== 'internal') fail(error.message);
            throw error;
          });
        const finished = await followJob(service, job);
        if (finished.state !== 'succeeded')
          fail(
            `import of predictions ${finished.state}: ${finished.error}`,
            finished.state === 'cancelled' ? 130 : finished.detail.refused === true ? 2 : 1,
          );
        const result = importPredictionsResultSchema.parse(finished.result);
        if (options.json) printJson(result);
        else process.stdout.write(`${summary(result)}\n`);
      } finally {
        service.close();
      }
    });
}
