/**
 * `qataseg export --project DIR --out OUT [--source S] [--format F] [--state a,b] [--split a,b]
 * [--model VERSION] [--threshold T] [--images] [--overwrite] [--json]`: writes the project's masks
 * to OUT in the QaTa layout with `OUT/manifest.csv`. Refusals (files that exist, OUT inside a
 * dataset) exit 2 before anything is written; a write failure exits 1 saying what was written.
 */
import { parseLabelSource } from '../../shared/label-source-schemas';
import path from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import {
  exportFormatSchema,
  exportInputSchema,
  exportResultSchema,
  exportSourceSchema,
  type ExportInput,
  type ExportResult,
} from '../../shared/export-schemas';
import { reviewStateSchema, splitSchema } from '../../shared/contract-review';
import { fail, printJson } from '../output';
import { isRefusal, openSession, type CliSession } from '../project-access';
import { followJob } from './ml-shared';

interface ExportCliOptions {
  project: string;
  out: string;
  source: string;
  format: string;
  state?: string;
  split?: string;
  model?: string;
  threshold: string;
  images?: boolean;
  deidentify?: boolean;
  overwrite?: boolean;
  json?: boolean;
  datasetId?: string;
  datasetName?: string;
}

function list<T extends string>(value: string | undefined, schema: z.ZodType<T>, flag: string) {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const parsed = schema.safeParse(item);
      if (!parsed.success) fail(`${flag}: unknown value ${JSON.stringify(item)}`);
      return parsed.data;
    });
}

export function summary(result: ExportResult): string {
  const lines = [
    `Exported ${result.masks} mask(s) (${result.source}, ${result.format}${result.model ? `, model ${result.model}` : ''}) to ${result.out} in ${result.seconds.toFixed(1)} s (${Math.round(result.masksPerSecond)} masks/s)`,
    `  manifest: ${result.manifest}`,
  ];
  if (result.skipped.length > 0) {
    lines.push(`  skipped ${result.skipped.length}:`);
    for (const item of result.skipped.slice(0, 20)) lines.push(`    ${item.image}: ${item.reason}`);
    if (result.skipped.length > 20)
      lines.push(`    ... and ${result.skipped.length - 20} more (--json)`);
  }
  return lines.join('\n');
}

/**
 * The export as a job of the Service that has the project (hosted in this process when the
 * project is free or only readable, else the running server's): refusals exit 2, failures 1.
 */
export async function exportThroughService(
  session: CliSession,
  input: ExportInput,
  options: { json?: boolean } = {},
): Promise<ExportResult> {
  let started;
  try {
    started = await session.invoke('export.start', input);
  } catch (error) {
    if (isRefusal(error)) fail(error.message, 2);
    throw error;
  }
  const job = await followJob(session, started);
  if (job.state === 'cancelled') fail('export cancelled', 130);
  if (job.state !== 'succeeded') {
    // The exporter's own words already say it stopped and list what was written.
    const error = job.error?.startsWith('export stopped')
      ? job.error
      : `export stopped: ${job.error}`;
    if (options.json) printJson({ error });
    fail(error, 1);
  }
  return exportResultSchema.parse(job.result);
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write masks to a folder in the QaTa layout, with a manifest (SHA-256 per file)')
    .requiredOption('--project <dir>', 'project folder')
    .requiredOption('--out <dir>', 'output folder (created if needed; never inside a dataset)')
    .option(
      '--source <source>',
      `which mask: ${exportSourceSchema.options.join('|')}, or team review's final|consensus[:staple|vote]|reader:NAME`,
      'best',
    )
    .option('--format <format>', `file format: ${exportFormatSchema.options.join('|')}`, 'png')
    .option('--state <states>', 'only these review states, comma-separated')
    .option(
      '--split <splits>',
      'only these splits, comma-separated (train,test,control,unassigned)',
    )
    .option('--model <version>', 'model version of predictions (default: the active model)')
    .option(
      '--threshold <p>',
      'probability at or above which a predicted pixel is foreground',
      '0.5',
    )
    .option('--images', 'also copy each image to <folder>/Images/<name> (a complete dataset)')
    .option('--dataset-id <n>', 'nnunet: the dataset number, 1..999 (Dataset<NNN>_<NAME>)')
    .option('--dataset-name <name>', 'nnunet: the dataset name (letters, digits, _ and -)')
    .option(
      '--deidentify',
      'dicom-seg: remove patient data (PS3.15 Annex E basic profile), new UIDs across the export',
    )
    .option('--overwrite', 'replace files that exist (otherwise the export is refused)')
    .option('--json', 'print the export result as JSON')
    .action(async (options: ExportCliOptions) => {
      const input = exportInputSchema.safeParse({
        // On the command line a relative path is relative to where it was typed.
        out: path.resolve(options.out),
        // Team review's sources (final, consensus, reader:NAME) go in labelSource.
        ...(parseLabelSource(options.source)
          ? { labelSource: options.source }
          : { source: options.source }),
        format: options.format,
        states: list(options.state, reviewStateSchema, '--state'),
        splits: list(options.split, splitSchema, '--split'),
        model: options.model,
        threshold: Number(options.threshold),
        overwrite: options.overwrite ?? false,
        copyImages: options.images ?? false,
        datasetId: options.datasetId === undefined ? undefined : Number(options.datasetId),
        datasetName: options.datasetName,
        deidentify: options.deidentify ?? false,
      });
      if (!input.success) {
        fail(
          input.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
        );
      }
      // The output is absolute already (resolved where it was typed), as a server needs.
      const session = await openSession(options.project, 'auto', 'This export', { reader: true });
      try {
        const result = await exportThroughService(session, input.data, { json: options.json });
        if (options.json) printJson(result);
        else process.stdout.write(`${summary(result)}\n`);
      } finally {
        session.close();
      }
    });
}
