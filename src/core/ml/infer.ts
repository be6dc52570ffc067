/**
 * Inference at an image's own resolution: the image is resized to the network's input (as in
 * training), predicted, and the probability map resized back; or, for models trained on patches
 * and very large images, overlap-tiled at native resolution. Evaluation compares the result with
 * the label in force using the shared metrics.
 */
import { maskMetrics, meanOf, metricsFromConfusion, type Confusion } from '../../shared/metrics';
import type { PerImageScore, SplitMetrics } from '../../shared/contract-ml';
import type { Db } from '../project/store';
import { readImagePixels, readLabelPixels, resizeGray, type TrainingPair } from './data';
import type { ModelRunner } from './engine';
import { overlapTile } from './tile';
import { probabilitiesToBytes, toUnitFloat } from './trainer';

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

export interface PairEvaluation {
  metrics: SplitMetrics | null;
  perImage: PerImageScore[];
  /** Pairs without a prediction (imported predictions that do not cover every image). */
  missing?: number;
}

/**
 * The 0..255 probability map of one image at its own resolution, whatever makes it: the project's
 * U-Net, an external ONNX model or predictions imported earlier (null: none for this image).
 */
export type ImagePredictor = (target: {
  imageId: number;
  imagePath: string;
}) => Promise<Uint8Array | null>;

/** The U-Net of a runner as an ImagePredictor. */
export function runnerPredictor(runner: ModelRunner, size: number, tile = false): ImagePredictor {
  return async ({ imagePath }) =>
    predictFullImage(runner, await readImagePixels(imagePath), size, tile);
}

/**
 * Per-image metrics of a model on pairs, at each image's resolution. Dice and IoU over the set are
 * means of per-image values (an image where both masks are empty scores 1); precision, recall,
 * specificity and accuracy are means of per-image values too.
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
  const all: ReturnType<typeof maskMetrics>[] = [];
  let missing = 0;
  for (const [index, pair] of pairs.entries()) {
    if (options.signal?.aborted) throw new Error('cancelled');
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
    options.onImage?.(index + 1, pairs.length);
  }
  if (all.length === 0) return { metrics: null, perImage, missing };
  return { metrics: summarise(all), perImage, missing };
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
