/** `qataseg doctor`: versions, the ML runtime ladder as the worker saw it, and SQLite. */
import type { Command } from 'commander';
import { backendChoiceSchema, type LadderStep } from '../../shared/contract';
import { createService } from '../../core/service';
import { electronStatus, sqliteVersion } from '../../core/environment';
import { printJson } from '../output';
import { BACKEND_CHOICES } from './ml-shared';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('print versions, the ML backend ladder with reasons, and the SQLite version')
    .option('--backend <name>', `force a backend: ${BACKEND_CHOICES}`, 'auto')
    .option('--json', 'print one JSON object')
    .action(async (options: { backend: string; json?: boolean }) => {
      const backend = backendChoiceSchema.parse(options.backend);
      const service = createService({ transport: 'http', backend });
      const electron = electronStatus();
      let ladder: LadderStep[] = [];
      let chosen: string | null = null;
      let workerError: string | null = null;
      try {
        const status = await service.worker.ensureStarted();
        ladder = status.ladder;
        chosen = status.backend;
      } catch (error) {
        const status = service.worker.getStatus();
        ladder = status.ladder;
        workerError = error instanceof Error ? error.message : String(error);
      } finally {
        service.close();
      }
      const report = {
        node: process.versions.node,
        electron: {
          package: electron.packageVersion,
          binary: electron.binaryPath,
          problem: electron.problem,
        },
        sqlite: sqliteVersion(),
        backend: chosen,
        ladder,
        workerError,
      };
      if (options.json) {
        printJson(report);
        return;
      }
      const lines = [
        `Node        ${report.node}`,
        `Electron    ${electron.packageVersion ?? 'not installed'}${electron.problem ? ` (no binary: ${electron.problem}; without it npm start opens browser mode)` : ''}`,
        `SQLite      ${report.sqlite}`,
        `ML backend  ${chosen ?? `none (${workerError})`}`,
        'Runtime ladder (first that loads wins):',
        ...ladder.map(
          (step, index) =>
            `  ${index + 1}. ${step.backend.padEnd(20)} ${step.status.padEnd(9)} ${step.reason}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
