/** `qataseg train`: trains a U-Net version in the ML worker, from scratch or fine-tuning. */
import type { Command } from 'commander';
import {
  trainParamsSchema,
  type EpochRecordInfo,
  type SkippedImage,
} from '../../shared/contract-ml';
import { z } from 'zod';
import { fail, printJson } from '../output';
import {
  BACKEND_CHOICES,
  followJob,
  openService,
  parseInteger,
  parseNumber,
  skippedLines,
  type CommonOptions,
} from './ml-shared';
import { plural } from '../../shared/plural';

interface TrainOptions extends CommonOptions {
  epochs?: number;
  size?: number;
  base?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  loss?: string;
  labels?: string;
  source?: string;
  valFraction?: number;
  dropout?: number;
  augment: boolean;
  tile?: boolean;
  from?: string;
  promote?: string;
  resume?: string;
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train a U-Net version on the project (progress bar on a TTY, JSON lines with --json)',
    )
    .option('--project <dir>', 'project folder')
    .option('--epochs <n>', 'epochs (default 20)', parseInteger)
    .option('--size <px>', 'input size, a multiple of 16 (default 256)', parseInteger)
    .option('--base <n>', 'base filters: 8, 16, 32 or 64 (default 16)', parseInteger)
    .option('--batch <n>', 'batch size (default 4)', parseInteger)
    .option('--lr <rate>', 'Adam learning rate (default 0.001)', parseNumber)
    .option('--seed <s>', 'seed of initialisation, split, shuffling and augmentation', parseInteger)
    .option('--loss <name>', 'bce | dice | bce-dice | weighted-bce (default bce-dice)')
    .option('--labels <list>', 'label set: comma list of ground-truth,accepted,corrected')
    .option(
      '--source <source>',
      'whose labels train: final (default) | consensus[:staple|vote] | reader:NAME (team review)',
    )
    .option(
      '--val-fraction <f>',
      'fraction of train held out for validation (default 0.1)',
      parseNumber,
    )
    .option('--dropout <rate>', 'dropout at the bottom of the U-Net (default 0)', parseNumber)
    .option('--no-augment', 'train without augmentation')
    .option(
      '--tile',
      'train on crops at native resolution and predict by overlap-tile (instead of resizing)',
    )
    .option('--from <version>', "fine-tune from a version ('active' for the active one)")
    .option('--promote <when>', 'never | if-better | always (default if-better)')
    .option('--resume <version>', 'resume a cancelled or crashed run')
    .option('--backend <name>', BACKEND_CHOICES, 'auto')
    .option('--json', 'JSON lines: progress events and a final result')
    .action(async (options: TrainOptions) => {
      const service = await openService(options, 'This training');
      try {
        let job;
        if (options.resume) {
          job = await service.invoke('train.resume', { version: options.resume });
        } else {
          const parsed = trainParamsSchema.safeParse({
            epochs: options.epochs,
            size: options.size,
            base: options.base,
            batch: options.batch,
            learningRate: options.lr,
            seed: options.seed,
            loss: options.loss,
            labels: options.labels?.split(',').map((label) => label.trim()),
            labelSource: options.source,
            valFraction: options.valFraction,
            dropout: options.dropout,
            augment: options.augment,
            inputMode: options.tile ? 'tile' : 'resize',
            from: options.from ?? null,
            promote: options.promote,
          });
          if (!parsed.success) fail(z.prettifyError(parsed.error));
          job = await service.invoke('train.start', parsed.data);
        }
        const status = await service.workerStatus();
        const version = typeof job.detail.version === 'string' ? job.detail.version : '';
        if (options.json) {
          printJson({
            event: 'started',
            job: job.id,
            version,
            backend: status.backend,
            ladder: status.ladder,
          });
        } else {
          const skipped = status.ladder
            .filter((step) => step.status === 'failed')
            .map((step) => `${step.backend}: ${step.reason}`);
          process.stderr.write(
            `training ${version} on the ${status.backend} backend${skipped.length ? ` (not used: ${skipped.join('; ')})` : ''}\n`,
          );
        }
        const finished = await followJob(service, job, {
          json: options.json,
          onEpoch: (current) => {
            if (options.json) return;
            const history = current.detail.history as EpochRecordInfo[];
            const last = history[history.length - 1];
            const line = `epoch ${last.epoch}: loss ${last.loss.toFixed(4)}, val Dice ${last.valDice === null ? '-' : last.valDice.toFixed(4)}, ${last.imagesPerSecond.toFixed(1)} img/s, ${last.seconds.toFixed(1)} s`;
            if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(100)}\n`);
            else process.stdout.write(`${line}\n`);
          },
        });
        if (finished.state !== 'succeeded') {
          const how = finished.state === 'cancelled' ? 'cancelled' : `failed: ${finished.error}`;
          const resume = `qataseg train --project ${options.project} --resume ${version}`;
          if (options.json)
            printJson({
              event: 'end',
              state: finished.state,
              error: finished.error,
              version,
              resume,
            });
          fail(
            `training ${version} ${how}${version ? `\nresume with: ${resume}` : ''}`,
            finished.state === 'cancelled' ? 130 : 1,
          );
        }
        const result = finished.result as {
          version: string;
          testDice: number | null;
          valDice: number | null;
          promoted: boolean;
          epochs: number;
          imagesPerSecond: number;
          backend: string;
          skipped: SkippedImage[];
        };
        if (options.json) printJson({ event: 'end', state: 'succeeded', ...result });
        else {
          process.stdout.write(
            `${result.version}: test Dice ${result.testDice?.toFixed(4) ?? '-'}, val Dice ${result.valDice?.toFixed(4) ?? '-'}, ${plural(result.epochs, 'epoch')}, ${result.imagesPerSecond.toFixed(1)} img/s on ${result.backend}${result.promoted ? ' (now active)' : ''}\n${skippedLines(result.skipped)}`,
          );
        }
      } finally {
        service.close();
      }
    });
}
