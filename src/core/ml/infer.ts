/**
 * Inference at an image's own resolution: the image is resized to the network's input (as in
 * training), predicted, and the probability map resized back; or, for models trained on patches
 * and very large images, overlap-tiled at native resolution. Evaluation compares the result with
 * the label in force using the shared metrics.
 */
import { maskMetrics, meanOf, metricsFromConfusion, type Confusion } from '../../shared/metrics';
import type { PerImageScore, SkippedImage, SplitMetrics } from '../../shared/contract-ml';
import type { Db } from '../project/store';
import {
  readImagePixels,
  readLabelPixels,
  resizeGray,
  type ImportedSize,
  type TrainingPair,
} from './data';
import type { ModelRunner } from './engine';
import { overlapTile } from './tile';
import { probabilitiesToBytes, toUnitFloat } from './trainer';
import { predictTransformed } from './tta';
import { passesScore } from '../math/uncertainty-calibration';
import type { UncertaintyCalibration } from '../../shared/uncertainty-schemas';

/** 0..255 probability map of a full-resolution gray image. */
export async function predictFullImage(
  runner: ModelRunner,
  image: { data: Uint8Array; width: number; height: number },
  size: number,
  tile = false,
): Promise<Uint8Array> {
  if (tile) {
    const probabilities = await overlapTile(
      toUnitFloat(image.data),
      image.width,
      image.height,
      (tiles) => runner.predict(tiles),
      { size },
    );
    return probabilitiesToBytes(probabilities);
  }
  const input = await resizeGray(image.data, image.width, image.height, size, size, 'linear');
  const [probabilities] = await runner.predict([toUnitFloat(input)]);
  return resizeGray(
    probabilitiesToBytes(probabilities),
    size,
    size,
    image.width,
    image.height,
    'linear',
  );
}

/**
 * An image's test-time passes at the network's input size (8-bit, pass 0 the plain prediction) and
 * the plain prediction at the image's own resolution (as predictFullImage).
 */
export async function predictPasses(
  runner: ModelRunner,
  image: { data: Uint8Array; width: number; height: number },
  size: number,
  passes: number,
): Promise<{ probabilities: Uint8Array; maps: Uint8Array[] }> {
  const input = await resizeGray(image.data, image.width, image.height, size, size, 'linear');
  const maps = await predictTransformed(runner, toUnitFloat(input), size, passes);
  const bytes = maps.map((map) => probabilitiesToBytes(map));
  const probabilities = await resizeGray(bytes[0], size, size, image.width, image.height, 'linear');
  return { probabilities, maps: bytes };
}

/**
 * The plain prediction of an image at its own resolution (as predictFullImage) and its uncertainty
 * score from `passes` test-time transforms at the network's input size: the version's calibrated
 * score when it has a calibration for that many passes, else passesUncertainty
 * (../math/uncertainty-calibration.ts passesScore); null with one pass or tiling, where the score
 * comes from the map alone.
 */
export async function predictScoredImage(
  runner: ModelRunner,
  image: { data: Uint8Array; width: number; height: number },
  size: number,
  options: { tile?: boolean; passes: number; calibration?: UncertaintyCalibration | null },
): Promise<{ probabilities: Uint8Array; uncertainty: number | null }> {
  if (options.tile || options.passes <= 1)
    return {
      probabilities: await predictFullImage(runner, image, size, options.tile),
      uncertainty: null,
    };
  const { probabilities, maps } = await predictPasses(runner, image, size, options.passes);
  return { probabilities, uncertainty: passesScore(maps, options.calibration) };
}

export interface PairEvaluation {
  metrics: SplitMetrics | null;
  perImage: PerImageScore[];
  /** Pairs without a prediction (imported predictions that do not cover every image). */
  missing?: number;
  skipped: SkippedImage[];
}

/** Why one image was left out, in a line. */
export function skippedImage(
  image: { imageId: number; relPath: string },
  error: unknown,
): SkippedImage {
  const text = error instanceof Error ? error.message : String(error);
  const reason = text.split('\n').find((line) => line.trim().length > 0) ?? 'unknown error';
  return { imageId: image.imageId, image: image.relPath, reason: reason.trim().slice(0, 300) };
}

/** An image to predict: its file, and the size it had when imported (checked before decoding). */
export interface PredictionTarget extends ImportedSize {
  imageId: number;
  imagePath: string;
}

/**
 * The 0..255 probability map of one image at its own resolution, whatever makes it: the project's
 * U-Net, an external ONNX model or predictions imported earlier (null: none for this image).
 */
export type ImagePredictor = (target: PredictionTarget) => Promise<Uint8Array | null>;

/** The U-Net of a runner as an ImagePredictor. */
export function runnerPredictor(runner: ModelRunner, size: number, tile = false): ImagePredictor {
  return async (target) =>
    predictFullImage(runner, await readImagePixels(target.imagePath, target), size, tile);
}

/**
 * Per-image metrics of a model on pairs, at each image's resolution. Dice and IoU over the set are
 * means of per-image values (an image where both masks are empty scores 1); precision, recall,
 * specificity and accuracy are means of per-image values too. An image that cannot be read, or
 * whose label no longer fits it, is skipped and named in `skipped`.
 */
export async function evaluatePairs(
  runner: ModelRunner,
  db: Db,
  pairs: TrainingPair[],
  size: number,
  threshold: number,
  options: {
    signal?: AbortSignal;
    onImage?(done: number, total: number): void;
    tile?: boolean;
  } = {},
): Promise<PairEvaluation> {
  return evaluatePredictor(
    runnerPredictor(runner, size, options.tile),
    db,
    pairs,
    threshold,
    options,
  );
}

/** evaluatePairs for any ImagePredictor; pairs it has no prediction for are counted as missing. */
export async function evaluatePredictor(
  predict: ImagePredictor,
  db: Db,
  pairs: TrainingPair[],
  threshold: number,
  options: { signal?: AbortSignal; onImage?(done: number, total: number): void } = {},
): Promise<PairEvaluation> {
  const perImage: PerImageScore[] = [];
  const skipped: SkippedImage[] = [];
  const all: ReturnType<typeof maskMetrics>[] = [];
  let missing = 0;
  for (const [index, pair] of pairs.entries()) {
    if (options.signal?.aborted) throw new Error('cancelled');
    try {
      const probabilities = await predict(pair);
      if (!probabilities) {
        missing += 1;
        options.onImage?.(index + 1, pairs.length);
        continue;
      }
      const label = await readLabelPixels(db, pair);
      const figures = maskMetrics(probabilities, label, threshold);
      all.push(figures);
      perImage.push({
        imageId: pair.imageId,
        image: pair.relPath,
        dice: figures.dice,
        iou: figures.iou,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      skipped.push(skippedImage(pair, error));
    }
    options.onImage?.(index + 1, pairs.length);
  }
  return { metrics: all.length === 0 ? null : summarise(all), perImage, missing, skipped };
}

export function summarise(all: (Confusion & { dice: number; iou: number })[]): SplitMetrics {
  const per = all.map((counts) => metricsFromConfusion(counts));
  return {
    images: all.length,
    dice: meanOf(per.map((m) => m.dice)),
    iou: meanOf(per.map((m) => m.iou)),
    precision: meanOf(per.map((m) => m.precision)),
    recall: meanOf(per.map((m) => m.recall)),
    specificity: meanOf(per.map((m) => m.specificity)),
    accuracy: meanOf(per.map((m) => m.accuracy)),
  };
}
