/**
 * `qataseg models --project DIR [--json]`: every model version with where it came from (trained
 * here, an external ONNX model, imported predictions), its input, size on disk, engine and figures.
 */
import type { Command } from 'commander';
import { listVersionNames, summarise } from '../../core/ml/versions';
import { ProjectStore } from '../../core/project/store';
import { printJson } from '../output';

function mib(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  return bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function figure(value: number | null): string {
  return value === null ? '-' : value.toFixed(4);
}

export function register(program: Command): void {
  program
    .command('models')
    .description('list the model versions with their source, input, size, engine and figures')
    .requiredOption('--project <dir>', 'project folder')
    .option('--json', 'print the list as JSON')
    .action((options: { project: string; json?: boolean }) => {
      // Reads only: beside a server or another command that has the project open for writing.
      const store = ProjectStore.open(options.project, { readOnly: 'reading its model versions' });
      try {
        const models = listVersionNames(store).map((version) => summarise(store, version));
        if (options.json) {
          printJson(models);
          return;
        }
        if (models.length === 0) {
          process.stdout.write('no model versions yet\n');
          return;
        }
        const rows = models.map((m) => [
          `${m.version}${m.active ? ' *' : ''}`,
          m.state === 'incomplete' ? 'incomplete' : (m.source ?? 'trained'),
          m.input ?? '-',
          mib(m.bytes),
          m.backend ?? '-',
          figure(m.testDice),
          figure(m.valDice),
          m.origin ?? (m.parent ? `from ${m.parent}` : ''),
        ]);
        const header = [
          'version',
          'source',
          'input',
          'size',
          'engine',
          'test Dice',
          'val Dice',
          'origin',
        ];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        for (const row of [header, ...rows])
          process.stdout.write(
            `${row
              .map((cell, i) => cell.padEnd(widths[i]))
              .join('  ')
              .trimEnd()}\n`,
          );
        if (models.some((m) => m.active)) process.stdout.write('* active\n');
      } finally {
        store.close();
      }
    });
}
