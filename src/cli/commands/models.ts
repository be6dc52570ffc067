/**
 * `qataseg models --project DIR [--json]`: every model version with where it came from (trained
 * here, an external ONNX model, imported predictions), its input, size on disk, engine and figures.
 */
import type { Command } from 'commander';
import { openSession } from '../project-access';
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
    .action(async (options: { project: string; json?: boolean }) => {
      // Through Service.call like every command: the running server's answer when it holds the
      // project, else this process's service on it (read-only beside another writer).
      const session = await openSession(options.project, 'auto', 'Listing models', {
        reader: true,
      });
      try {
        const models = await session.invoke('models.list');
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
        session.close();
      }
    });
}
