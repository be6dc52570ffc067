/**
 * `qataseg demo --out DIR [--count N] [--seed S] [--size 224] [--project DIR]`: writes a QaTa v2
 * folder of synthetic chest X-ray phantoms with infection masks, deterministic for a seed; with
 * `--project`, imports it too.
 */
import type { Command } from 'commander';
import { generateDemoDataset } from '../../core/dataset/demo';
import path from 'node:path';
import { openSession } from '../project-access';
import { importThroughService, summary } from './import';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}`);
    }
    return number;
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('write synthetic chest X-ray phantoms with infection masks (QaTa v2 layout)')
    .requiredOption('--out <dir>', 'folder to write (Train Set/, Test Set/)')
    .option('--count <n>', 'number of images', integer('--count', 1, 1_000_000), 100)
    .option('--seed <s>', 'random seed', integer('--seed', 0, 2 ** 31), 1)
    .option('--size <px>', 'image side in pixels', integer('--size', 16, 4096), 224)
    .option('--project <dir>', 'also import the folder into this project')
    .action(
      async (options: {
        out: string;
        count: number;
        seed: number;
        size: number;
        project?: string;
      }) => {
        const started = performance.now();
        const result = await generateDemoDataset(options.out, options, (done, total) => {
          if (process.stderr.isTTY && (done % 50 === 0 || done === total)) {
            process.stderr.write(`\rgenerating ${done}/${total}`);
          }
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stdout.write(
          `Wrote ${options.count} phantoms (${result.train} train, ${result.test} test, ${result.withInfection} with infection) to ${result.root} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
        if (options.project) {
          // Through Service.call like `qataseg import`: this process's service on a free
          // project, else the running server's.
          const session = await openSession(
            options.project,
            'auto',
            'The import of the demo dataset',
          );
          try {
            const root = path.resolve(result.root);
            process.stdout.write(`${summary(await importThroughService(session, { root }))}\n`);
          } finally {
            session.close();
          }
        }
      },
    );
}
