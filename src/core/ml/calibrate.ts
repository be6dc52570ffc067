/**
 * Fits a trained version's uncertainty calibration (../math/uncertainty-calibration.ts) at the end
 * of its training job: its labelled images predicted under the prediction jobs' test-time passes,
 * each image's label-free features beside its 1 - Dice.
 */
import { maskMetrics } from '../../shared/metrics';
import type { UncertaintyCalibration } from '../../shared/uncertainty-schemas';
import { fitUncertaintyCalibration, type CalibrationSample } from '../math/uncertainty-calibration';
import { predictionFeatures } from '../math/uncertainty-features';
import type { Db } from '../project/store';
import { readImagePixels, readLabelPixels, type TrainingPair } from './data';
import type { ModelRunner } from './engine';
import { predictPasses } from './infer';

/**
 * At most this many images are fitted on (the validation split first, then training images in id
 * order): a few hundred settle a one-feature step function, and each costs `passes` model runs.
 */
export const MAX_CALIBRATION_IMAGES = 400;

/**
 * The features and errors of the pairs (unreadable ones left out), at the threshold the masks cut
 * (p >= 0.5).
 */
export async function calibrationSamples(
  runner: ModelRunner,
  db: Db,
  pairs: readonly TrainingPair[],
  size: number,
  passes: number,
  options: { signal?: AbortSignal; onImage?(done: number, total: number): void } = {},
): Promise<CalibrationSample[]> {
  const samples: CalibrationSample[] = [];
  for (const [index, pair] of pairs.entries()) {
    if (options.signal?.aborted) throw new Error('cancelled');
    options.onImage?.(index, pairs.length);
    let image: Awaited<ReturnType<typeof readImagePixels>>;
    let label: Uint8Array;
    try {
      image = await readImagePixels(pair.imagePath, pair);
      label = await readLabelPixels(db, pair);
    } catch {
      continue; // The evaluation names unreadable images; the fit does without them.
    }
    if (label.length !== image.width * image.height) continue;
    const { probabilities, maps } = await predictPasses(runner, image, size, passes);
    samples.push({
      features: predictionFeatures(maps),
      error: 1 - maskMetrics(probabilities, label, 0.5).dice,
    });
  }
  return samples;
}

/**
 * The calibration of a version from its validation and training pairs (null when none can be
 * read): fitted on the validation split and as many training images as MAX_CALIBRATION_IMAGES
 * leaves room for.
 */
export async function fitVersionCalibration(
  runner: ModelRunner,
  db: Db,
  splits: { train: readonly TrainingPair[]; val: readonly TrainingPair[] },
  size: number,
  passes: number,
  options: { signal?: AbortSignal; onImage?(done: number, total: number): void } = {},
): Promise<UncertaintyCalibration | null> {
  const pairs = [...splits.val, ...splits.train].slice(0, MAX_CALIBRATION_IMAGES);
  const samples = await calibrationSamples(runner, db, pairs, size, passes, options);
  return samples.length === 0 ? null : fitUncertaintyCalibration(samples, passes);
}
