/**
 * `qataseg import DATASET --project DIR [--mask-pattern P] [--controls-as-negative]
 * [--max-pixels N] [--json]`:
 * imports (or refreshes) a dataset folder into a project. `--json` prints exactly the import report.
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_MAX_IMAGE_PIXELS,
  importInputSchema,
  importResultSchema,
  MAX_DECODABLE_PIXELS,
  type ImportInput,
  type ImportResult,
} from '../../shared/dataset-schemas';
import { resolveDatasetRoot } from '../../core/dataset/import';
import { fail, printJson } from '../output';
import { isRefusal, openSession, type CliSession } from '../project-access';
import { followJob } from './ml-shared';

export function summary(result: ImportResult): string {
  const { report, refresh } = result;
  const splits = Object.entries(report.splits)
    .filter(([, n]) => n > 0)
    .map(([split, n]) => `${split} ${n}`)
    .join(', ');
  const lines = [
    `Imported ${result.root} (layout ${result.layout}) in ${result.seconds.toFixed(1)} s`,
    `  pairs ${report.pairs}, images without mask ${report.imagesWithoutMask}, orphan masks ${report.orphanMasks}`,
    `  splits: ${splits || 'none'}`,
    `  refresh: ${refresh.added} added, ${refresh.unchanged} unchanged, ${refresh.changed} changed, ${refresh.missing} missing, ${refresh.restored} restored`,
  ];
  if (report.skipped.length > 0) {
    lines.push(`  skipped ${report.skipped.length}:`);
    for (const item of report.skipped.slice(0, 20)) lines.push(`    ${item.path}: ${item.reason}`);
    if (report.skipped.length > 20)
      lines.push(`    ... and ${report.skipped.length - 20} more (--json)`);
  }
  if (report.warnings.length > 0) {
    lines.push(`  warnings ${report.warnings.length}:`);
    for (const item of report.warnings.slice(0, 20))
      lines.push(`    ${item.path}: ${item.message}`);
    if (report.warnings.length > 20)
      lines.push(`    ... and ${report.warnings.length - 20} more (--json)`);
  }
  return lines.join('\n');
}

function printImport(result: ImportResult, json?: boolean): void {
  if (json) printJson(result.report);
  else process.stdout.write(`${summary(result)}\n`);
}

/**
 * The import as a job of the Service that has the project: hosted in this process when the
 * project is free, else the running server's. Validation, locks, read-only and events are the
 * app's own.
 */
export async function importThroughService(
  session: CliSession,
  input: ImportInput,
): Promise<ImportResult> {
  let started;
  try {
    started = await session.invoke('dataset.import', input);
  } catch (error) {
    if (isRefusal(error)) fail(error.message);
    throw error;
  }
  const job = await followJob(session, started);
  if (job.state === 'cancelled') fail('import cancelled', 130);
  if (job.state !== 'succeeded') fail(`import failed: ${job.error}`, 1);
  return importResultSchema.parse(job.result);
}

export function register(program: Command): void {
  program
    .command('import')
    .description('import a dataset folder (QaTa-COV19 v1/v2, control groups, LViT) into a project')
    .argument('<dataset>', 'dataset folder (read only: nothing is written there)')
    .requiredOption('--project <dir>', 'project folder (created if needed)')
    .option(
      '--mask-pattern <pattern>',
      'mask file name with {name} or {stem} (default mask_{name})',
    )
    .option('--controls-as-negative', 'give control-group images an empty mask and state negative')
    .option(
      '--max-pixels <n>',
      `skip images (and masks) with more pixels, read from their header (default ${DEFAULT_MAX_IMAGE_PIXELS}, 8192x8192; at most ${MAX_DECODABLE_PIXELS})`,
    )
    .option('--json', 'print the import report as JSON')
    .action(
      async (
        dataset: string,
        options: {
          project: string;
          maskPattern?: string;
          controlsAsNegative?: boolean;
          maxPixels?: string;
          json?: boolean;
        },
      ) => {
        const input = importInputSchema.safeParse({
          // On the command line a relative path is relative to where it was typed.
          root: path.resolve(dataset),
          maskPattern: options.maskPattern,
          controlsAsNegative: options.controlsAsNegative ?? false,
          maxPixels: options.maxPixels === undefined ? undefined : Number(options.maxPixels),
        });
        if (!input.success) {
          fail(
            input.error.issues
              .map((issue) => `${issue.path.join('.') || 'dataset'}: ${issue.message}`)
              .join('; '),
          );
        }
        // A missing or unreadable folder: one clear line and exit code 2, not a stack trace.
        await resolveDatasetRoot(input.data.root, process.cwd()).catch((error: Error) =>
          fail(error.message),
        );
        // The root is absolute already (resolved where it was typed), as a server needs.
        const session = await openSession(options.project, 'auto', 'This import');
        try {
          printImport(await importThroughService(session, input.data), options.json);
        } finally {
          session.close();
        }
      },
    );
}
