/**
 * The calibrated uncertainty score: per model, the expected 1 - Dice of a prediction, fitted at the
 * end of training on the labelled images the version learnt from (its validation split and its
 * training images) and applied by its prediction jobs. Models without a calibration (external
 * ONNX, imported predictions, versions from before) keep passesUncertainty (./uncertainty.ts).
 *
 * Why per model: the label-free features change sign between models (bench/uncertainty.ts):
 * a weak model's highest probability is highest on the images it gets least wrong, a trained
 * model's on the images it gets right, so no fixed formula ranks both. Why two parts: an empty
 * prediction is either right (a lesion-free image, error 0) or a missed lesion (error 1), so its
 * expected error is how often the model's empty predictions missed on the images fitted on, moved
 * by how far the map rises towards a lesion; a drawn prediction's error follows its doubt. Each
 * part is one feature through a monotone (isotonic) fit, chosen by Spearman on the images fitted
 * on: one choice and a step function per part, robust with a few dozen images.
 *
 * The drawn part uses only features that scale with the area drawn (./uncertainty.ts's stake),
 * and only increasing fits, so a one-pixel speck scores low in its part whatever its entropy.
 */
import type {
  CalibrationPart,
  PredictionFeatureName,
  UncertaintyCalibration,
} from '../../shared/uncertainty-schemas';
import { predictionFeatures, type PredictionFeatures } from './uncertainty-features';
import { passesUncertainty, spearman } from './uncertainty';

/** A labelled image's features and its 1 - Dice (the plain prediction against the label). */
export interface CalibrationSample {
  features: PredictionFeatures;
  error: number;
}

/**
 * Features an empty prediction's part may use, in either direction (first wins ties): first the
 * passes' disagreement, which is 1 when another pass draws a lesion of some size where the plain
 * map draws none (a miss the passes see), then how far the map rises above its background.
 */
const EMPTY_FEATURES: readonly PredictionFeatureName[] = [
  'disagreement',
  'rise',
  'maxP',
  'background',
  'anyDrawn',
  'plain',
  'score',
];

/** Features a drawn prediction's part may use: doubt weighed by the area at stake, increasing only. */
const DRAWN_FEATURES: readonly PredictionFeatureName[] = ['score', 'plain', 'disagreement'];

/** The weight of the chosen feature itself beside the fitted error: breaks ties within a step. */
const TIE_BREAK = 0.001;

/**
 * Isotonic regression (pool adjacent violators) of ys on xs: the fitted points at the distinct
 * xs, ascending, non-decreasing in x when `increasing`, else non-increasing.
 */
export function isotonicFit(
  xs: readonly number[],
  ys: readonly number[],
  increasing: boolean,
): { x: number[]; y: number[] } {
  if (xs.length !== ys.length) throw new Error(`isotonicFit of ${xs.length} and ${ys.length}`);
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  // Distinct xs with their mean y and weight; a decreasing fit is an increasing fit of -y.
  const blocks: { x: number[]; sum: number; weight: number }[] = [];
  for (const i of order) {
    const y = increasing ? ys[i] : -ys[i];
    const last = blocks.at(-1);
    if (last && last.x.at(-1) === xs[i]) {
      last.sum += y;
      last.weight++;
    } else blocks.push({ x: [xs[i]], sum: y, weight: 1 });
  }
  const pooled: typeof blocks = [];
  for (const block of blocks) {
    pooled.push({ ...block, x: [...block.x] });
    while (
      pooled.length > 1 &&
      pooled[pooled.length - 2].sum / pooled[pooled.length - 2].weight >
        pooled[pooled.length - 1].sum / pooled[pooled.length - 1].weight
    ) {
      const top = pooled.pop()!;
      const below = pooled[pooled.length - 1];
      below.x.push(...top.x);
      below.sum += top.sum;
      below.weight += top.weight;
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (const block of pooled) {
    const value = block.sum / block.weight;
    for (const at of block.x) {
      x.push(at);
      y.push(increasing ? value : -value);
    }
  }
  return { x, y };
}

/** The part's fitted error at a feature value: linear between points, the end value outside. */
function interpolate(part: CalibrationPart, value: number): number {
  const { x, y } = part;
  if (value <= x[0]) return y[0];
  if (value >= x[x.length - 1]) return y[y.length - 1];
  let hi = 1;
  while (x[hi] < value) hi++;
  const lo = hi - 1;
  const span = x[hi] - x[lo];
  return span === 0 ? y[hi] : y[lo] + ((value - x[lo]) / span) * (y[hi] - y[lo]);
}

/** One part's fit: the feature of the best Spearman (in the allowed directions), isotonic. */
function fitPart(
  samples: readonly CalibrationSample[],
  candidates: readonly PredictionFeatureName[],
  bothDirections: boolean,
  fallbackError: number,
): CalibrationPart {
  if (samples.length === 0)
    return {
      feature: candidates[0],
      increasing: true,
      x: [0],
      y: [clamp01(fallbackError)],
      images: 0,
      spearman: 0,
    };
  const errors = samples.map((sample) => sample.error);
  let best = { feature: candidates[0], increasing: true, rho: -Infinity };
  for (const feature of candidates) {
    const rho = spearman(
      samples.map((sample) => sample.features[feature]),
      errors,
    );
    const strength = bothDirections ? Math.abs(rho) : rho;
    if (strength > best.rho)
      best = { feature, increasing: !bothDirections || rho >= 0, rho: strength };
  }
  const fit = isotonicFit(
    samples.map((sample) => sample.features[best.feature]),
    errors,
    best.increasing,
  );
  return {
    feature: best.feature,
    increasing: best.increasing,
    x: fit.x,
    y: fit.y.map(clamp01),
    images: samples.length,
    spearman: best.increasing || !bothDirections ? best.rho : -best.rho,
  };
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

/**
 * Fits the calibration on labelled images' features and errors (at least one). `passes` is the
 * number of test-time passes the features came from.
 */
export function fitUncertaintyCalibration(
  samples: readonly CalibrationSample[],
  passes: number,
): UncertaintyCalibration {
  if (samples.length === 0) throw new Error('the uncertainty calibration needs labelled images');
  const meanError = samples.reduce((sum, sample) => sum + sample.error, 0) / samples.length;
  const empty = samples.filter((sample) => sample.features.empty === 1);
  const drawn = samples.filter((sample) => sample.features.empty !== 1);
  // An empty prediction is a miss (error 1) or right (error 0).
  const misses = empty.filter((sample) => sample.error >= 0.5).length;
  return {
    kind: 'isotonic-two-part',
    passes,
    images: samples.length,
    empty: fitPart(empty, EMPTY_FEATURES, true, meanError),
    drawn: fitPart(drawn, DRAWN_FEATURES, false, meanError),
    emptyMissRate: empty.length === 0 ? null : misses / empty.length,
  };
}

/**
 * The calibrated score (0 .. 1): the expected 1 - Dice of the prediction under the model's
 * calibration, plus a thousandth of where the chosen feature lies in its fitted range, so images
 * on one step of the fit keep the feature's order instead of tying.
 */
export function calibratedUncertainty(
  features: PredictionFeatures,
  calibration: UncertaintyCalibration,
): number {
  const part = features.empty === 1 ? calibration.empty : calibration.drawn;
  const value = features[part.feature];
  const low = part.x[0];
  const high = part.x[part.x.length - 1];
  const position = high > low ? clamp01((value - low) / (high - low)) : 0.5;
  const order = part.increasing ? position : 1 - position;
  return (1 - TIE_BREAK) * interpolate(part, value) + TIE_BREAK * order;
}

/**
 * The score a prediction job stores for an image's test-time passes: the calibrated score when the
 * version has a calibration fitted from as many passes, else passesUncertainty.
 */
export function passesScore(
  maps: readonly Uint8Array[],
  calibration: UncertaintyCalibration | null | undefined,
): number {
  if (calibration && calibration.passes === maps.length)
    return calibratedUncertainty(predictionFeatures(maps), calibration);
  return passesUncertainty(maps);
}
