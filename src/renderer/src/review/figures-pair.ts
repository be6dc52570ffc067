/**
 * Which two layers the Figures panel compares. Until the reviewer picks a pair, an image with a
 * prediction compares the prediction with the label in force (the figure the worklist's Dice
 * column shows), and an image without one compares the label with the ground truth.
 */
import type { MaskLayer } from '../../../shared/contract-review';

export interface DiffPair {
  enabled: boolean;
  candidate: MaskLayer;
  reference: MaskLayer;
  /** The reviewer picked this pair: it is kept from image to image. */
  chosen: boolean;
}

export const DEFAULT_DIFF: DiffPair = {
  enabled: false,
  candidate: 'prediction',
  reference: 'label',
  chosen: false,
};

/** The pair to show for an image that has (or lacks) a prediction. */
export function pairForImage(diff: DiffPair, hasPrediction: boolean): DiffPair {
  if (!diff.chosen) {
    return hasPrediction
      ? { ...diff, candidate: 'prediction', reference: 'label' }
      : { ...diff, candidate: 'label', reference: 'ground-truth' };
  }
  if (!hasPrediction && diff.candidate === 'prediction') return { ...diff, candidate: 'label' };
  return diff;
}
