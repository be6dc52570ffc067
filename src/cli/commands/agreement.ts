/**
 * `qataseg agreement --project DIR [--plan ID] [--method staple|vote] [--json] [--csv FILE]`: a
 * reading plan's agreement figures (default: the latest active plan): the reader-pair mean Dice
 * matrix, each reader against the consensus, kappa on negative/positive and the disputed images.
 * `--csv FILE` also writes every figure as CSV (src/shared/agreement-csv.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { agreementCsv } from '../../shared/agreement-csv';
import {
  consensusMethodSchema,
  type AgreementReport,
  type ConsensusMethod,
} from '../../shared/agreement-schemas';
import { fail, printJson } from '../output';
import { isRefusal, openSession } from '../project-access';
import { parseInteger } from './ml-shared';

interface AgreementOptions {
  project: string;
  plan?: string;
  method: string;
  json?: boolean;
  csv?: string;
}

function figure(value: number | null, digits = 3): string {
  return value === null ? '-' : value.toFixed(digits);
}

export function agreementText(report: AgreementReport): string {
  const lines = [
    `Plan ${report.plan.id} "${report.plan.name}" (${report.plan.status}): ${report.summary.images} image(s), ${report.summary.compared} with two or more readings, ${report.summary.disputed} disputed (mean Dice < ${report.plan.threshold} or a negative/positive split)`,
    `  mean pairwise Dice ${figure(report.summary.meanDice)}; ${report.kappa.kind === 'cohen' ? "Cohen's" : "Fleiss'"} kappa on negative/positive ${figure(report.kappa.value)} over ${report.kappa.images} image(s) read by every assigned reader`,
    '',
    'Mean Dice per reader pair:',
  ];
  const width = Math.max(8, ...report.readers.map((reader) => reader.label.length)) + 2;
  lines.push(''.padEnd(width) + report.readers.map((r) => r.label.padStart(width)).join(''));
  report.readers.forEach((reader, a) => {
    const cells = report.matrix[a].map((value, b) =>
      (a === b ? '·' : `${figure(value)} (${report.pairImages[a][b]})`).padStart(width),
    );
    lines.push(reader.label.padEnd(width) + cells.join(''));
  });
  lines.push('', `Each reader against the ${report.method} consensus:`);
  for (const reader of report.readers) {
    lines.push(
      `  ${reader.label.padEnd(width)} read ${reader.read}/${reader.assigned}, positive ${reader.positive}; Dice ${figure(reader.dice)}, sensitivity ${figure(reader.sensitivity)}, specificity ${figure(reader.specificity, 4)} (${reader.consensusImages} image(s))`,
    );
  }
  const disputed = report.images.filter((image) => image.disputed);
  if (disputed.length > 0) {
    lines.push('', 'Disputed images:');
    for (const image of disputed) {
      lines.push(
        `  ${image.name}: mean Dice ${figure(image.meanDice)}, ${image.positive} positive / ${image.negative} negative`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function parseMethod(value: string): ConsensusMethod {
  const parsed = consensusMethodSchema.safeParse(value);
  if (!parsed.success)
    fail(`--method: ${consensusMethodSchema.options.join(' or ')}, not ${value}`);
  return parsed.data;
}

export function register(program: Command): void {
  program
    .command('agreement')
    .description("a reading plan's agreement: reader-pair Dice, readers vs the consensus, kappa")
    .requiredOption('--project <dir>', 'project folder')
    .option('--plan <id>', 'the reading plan (default: the latest active plan)')
    .option(
      '--method <method>',
      'the consensus readers are measured against: staple|vote',
      'staple',
    )
    .option('--json', 'print the report as JSON')
    .option('--csv <file>', 'also write every figure to FILE as CSV')
    .action(async (options: AgreementOptions) => {
      const method = parseMethod(options.method);
      const planId = options.plan === undefined ? undefined : parseInteger(options.plan);
      const session = await openSession(options.project, 'auto', 'Reading the agreement', {
        reader: true,
      });
      try {
        let report: AgreementReport;
        try {
          report = await session.invoke('team.agreement', { planId, method });
        } catch (error) {
          if (isRefusal(error)) fail(error.message, 2);
          throw error;
        }
        if (options.csv) fs.writeFileSync(path.resolve(options.csv), agreementCsv(report));
        if (options.json) printJson(report);
        else process.stdout.write(agreementText(report));
      } finally {
        session.close();
      }
    });
}
