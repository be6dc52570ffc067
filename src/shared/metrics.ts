/**
 * Pixel metrics between two binary masks: one implementation for training validation, evaluation,
 * the review UI's live figures and the export manifest. Masks are arrays of one byte per pixel where
 * any non-zero value is foreground.
 */

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface MaskMetrics extends Confusion {
  dice: number;
  iou: number;
  precision: number;
  recall: number;
  specificity: number;
  accuracy: number;
}

type MaskArray = ArrayLike<number>;

/**
 * Counts true/false positives/negatives of `predicted` against `reference`. A `threshold` applies
 * to probability maps stored as 0..255 (foreground when value >= threshold * 255).
 */
export function confusion(
  predicted: MaskArray,
  reference: MaskArray,
  threshold = 0.5 / 255,
): Confusion {
  if (predicted.length !== reference.length) {
    throw new Error(`mask sizes differ: ${predicted.length} vs ${reference.length} pixels`);
  }
  const cut = threshold * 255;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] >= cut && predicted[i] > 0;
    const r = reference[i] > 0;
    if (p && r) tp++;
    else if (p) fp++;
    else if (r) fn++;
  }
  return { tp, fp, fn, tn: predicted.length - tp - fp - fn };
}

/**
 * Figures from counts. Where a ratio's denominator is zero because both masks are empty, the
 * masks agree and the figure is 1 (Dice and IoU of two empty masks score 1, as the issue asks).
 */
export function metricsFromConfusion(counts: Confusion): MaskMetrics {
  const { tp, fp, fn, tn } = counts;
  const ratio = (numerator: number, denominator: number) =>
    denominator === 0 ? 1 : numerator / denominator;
  return {
    ...counts,
    dice: ratio(2 * tp, 2 * tp + fp + fn),
    iou: ratio(tp, tp + fp + fn),
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    accuracy: ratio(tp + tn, tp + fp + fn + tn),
  };
}

export function maskMetrics(
  predicted: MaskArray,
  reference: MaskArray,
  threshold?: number,
): MaskMetrics {
  return metricsFromConfusion(confusion(predicted, reference, threshold));
}

/** Mean of per-image figures, the way evaluation reports Dice and IoU over a split. */
export function meanOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
