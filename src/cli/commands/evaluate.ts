/** `qataseg evaluate`: a model version's figures on a split, per image and as means. */
import type { Command } from 'commander';
import { evaluationSplitSchema } from '../../shared/contract-ml';
import { fail, printJson } from '../output';
import {
  BACKEND_CHOICES,
  openService,
  parseNumber,
  skippedLines,
  type CommonOptions,
} from './ml-shared';
import { plural } from '../../shared/plural';

interface EvaluateOptions extends CommonOptions {
  model?: string;
  split: string;
  threshold: number;
  source?: string;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('Dice, IoU, precision, recall, specificity of a model version on a split')
    .option('--project <dir>', 'project folder')
    .option('--model <version>', 'model version (default: active)')
    .option('--split <split>', 'test | val | train | control | all', 'test')
    .option('--threshold <t>', 'probability threshold', parseNumber, 0.5)
    .option(
      '--source <source>',
      'labels to measure against: final (default) | consensus[:staple|vote] | reader:NAME',
    )
    .option('--backend <name>', BACKEND_CHOICES, 'auto')
    .option('--json', 'print the evaluation as one JSON object')
    .action(async (options: EvaluateOptions) => {
      const split = evaluationSplitSchema.safeParse(options.split);
      if (!split.success)
        fail(`unknown split ${options.split}: test | val | train | control | all`);
      const service = await openService(options, 'This evaluation', { reader: true });
      try {
        const result = await service.invoke('evaluate.run', {
          model: options.model,
          split: split.data,
          threshold: options.threshold,
          labelSource: options.source,
        });
        if (options.json) {
          printJson({
            model: result.model,
            split: result.split,
            images: result.images,
            dice: result.dice,
            iou: result.iou,
            precision: result.precision,
            recall: result.recall,
            specificity: result.specificity,
            perImage: result.perImage.map((row) => ({
              image: row.image,
              dice: row.dice,
              iou: row.iou,
            })),
            // Only when there are: the keys are otherwise exactly the ones asked for.
            ...(result.skipped?.length ? { skipped: result.skipped } : {}),
          });
          return;
        }
        const f = (value: number) => value.toFixed(4);
        process.stdout.write(
          [
            `model ${result.model}, split ${result.split}, ${plural(result.images, 'image')}, threshold ${result.threshold}`,
            `Dice ${f(result.dice)}  IoU ${f(result.iou)}  precision ${f(result.precision)}  recall ${f(result.recall)}  specificity ${f(result.specificity)}`,
          ].join('\n') +
            '\n' +
            skippedLines(result.skipped),
        );
      } finally {
        service.close();
      }
    });
}
