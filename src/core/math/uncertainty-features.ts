/**
 * Label-free features of one image's prediction (the plain map and its test-time passes, 8-bit,
 * at the network's input size): what the calibrated uncertainty score
 * (./uncertainty-calibration.ts) is fitted on, per model, against 1 - Dice on the validation split.
 */
import {
  PREDICTION_FEATURE_NAMES,
  type PredictionFeatureName,
} from '../../shared/uncertainty-schemas';
import {
  LESION_FROM,
  maskDisagreement,
  median8,
  passesUncertainty,
  predictionUncertainty,
} from './uncertainty';

export type PredictionFeatures = Record<PredictionFeatureName, number> & {
  /** The uncalibrated score of the passes (passesUncertainty): what models without a calibration store. */
  score: number;
  /** The plain map's predictionUncertainty. */
  plain: number;
  /** The passes' maskDisagreement. */
  disagreement: number;
  /** Share of the image the plain prediction draws (p >= 0.5). */
  drawn: number;
  /** Share of the image any pass draws. */
  anyDrawn: number;
  /** 1 when the plain prediction draws nothing. */
  empty: number;
  /** The plain map's largest probability, 0..1. */
  maxP: number;
  /** The plain map's median probability (its background), 0..1. */
  background: number;
  /** How far the largest probability rises above the background towards 1: (max - bg) / (1 - bg). */
  rise: number;
  /** Mean probability over the drawn pixels (0 when none). */
  drawnMean: number;
  /** Mean Dice of each other pass's mask with the plain mask (1 when both are empty). */
  passDice: number;
};

/** The feature names, in the order the contract lists them. */
export const FEATURE_NAMES = PREDICTION_FEATURE_NAMES;

/** Dice of two masks cut at p >= 0.5; 1 when both are empty. */
function maskDice(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let inA = 0;
  let inB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] >= LESION_FROM;
    const y = b[i] >= LESION_FROM;
    if (x) inA++;
    if (y) inB++;
    if (x && y) both++;
  }
  return inA + inB === 0 ? 1 : (2 * both) / (inA + inB);
}

/** The features of a prediction's passes (pass 0 the plain map; at least one map). */
export function predictionFeatures(maps: readonly Uint8Array[]): PredictionFeatures {
  if (maps.length === 0) throw new Error('predictionFeatures needs at least one map');
  const plain = maps[0];
  const n = plain.length;
  let drawn = 0;
  let anyDrawn = 0;
  let drawnSum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = plain[i];
    if (v > max) max = v;
    if (v >= LESION_FROM) {
      drawn++;
      drawnSum += v;
    }
    if (v >= LESION_FROM || maps.some((map) => map[i] >= LESION_FROM)) anyDrawn++;
  }
  const background = median8(plain);
  const others = maps.slice(1);
  return {
    score: passesUncertainty(maps),
    plain: predictionUncertainty(plain),
    disagreement: maskDisagreement(maps),
    drawn: n === 0 ? 0 : drawn / n,
    anyDrawn: n === 0 ? 0 : anyDrawn / n,
    empty: drawn === 0 ? 1 : 0,
    maxP: max / 255,
    background: background / 255,
    rise: background >= 255 ? 0 : Math.max(0, (max - background) / (255 - background)),
    drawnMean: drawn === 0 ? 0 : drawnSum / drawn / 255,
    passDice:
      others.length === 0
        ? 1
        : others.reduce((sum, map) => sum + maskDice(plain, map), 0) / others.length,
  };
}
