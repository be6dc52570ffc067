/**
 * Agreement between readers' labels (team review): Dice between two masks, and chance-corrected
 * agreement on each image's negative/positive call (Cohen's kappa for two readers, Fleiss' kappa
 * for more). Pure figures over plain arrays; core/team/agreement.ts applies them to a plan.
 */

/** Foreground pixels of a mask (one byte per pixel, > 0 is lesion). */
export function foreground(mask: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) count++;
  return count;
}

/**
 * Dice = 2|A∩B| / (|A| + |B|) of two masks of the same size (one byte per pixel, > 0 lesion).
 * Two empty masks agree completely (both readers found no lesion): dice 1 and `bothEmpty` true,
 * so a caller can show that the 1 comes from two negative calls, not from overlapping lesions.
 */
export function dice(a: Uint8Array, b: Uint8Array): { dice: number; bothEmpty: boolean } {
  if (a.length !== b.length) {
    throw new RangeError(`masks differ in size: ${a.length} and ${b.length} pixels`);
  }
  let sizeA = 0;
  let sizeB = 0;
  let both = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] > 0;
    const inB = b[i] > 0;
    if (inA) sizeA++;
    if (inB) sizeB++;
    if (inA && inB) both++;
  }
  if (sizeA + sizeB === 0) return { dice: 1, bothEmpty: true };
  return { dice: (2 * both) / (sizeA + sizeB), bothEmpty: false };
}

/** Pixel counts of a label against a reference: sensitivity and specificity follow from them. */
export interface Confusion {
  truePositive: number;
  falsePositive: number;
  falseNegative: number;
  trueNegative: number;
}

export function confusion(label: Uint8Array, reference: Uint8Array): Confusion {
  if (label.length !== reference.length) {
    throw new RangeError(`masks differ in size: ${label.length} and ${reference.length} pixels`);
  }
  const counts = { truePositive: 0, falsePositive: 0, falseNegative: 0, trueNegative: 0 };
  for (let i = 0; i < label.length; i++) {
    const said = label[i] > 0;
    const truth = reference[i] > 0;
    if (said && truth) counts.truePositive++;
    else if (said) counts.falsePositive++;
    else if (truth) counts.falseNegative++;
    else counts.trueNegative++;
  }
  return counts;
}

/**
 * Cohen's kappa of two readers' positive/negative calls on the same images (index i: image i).
 * κ = (po − pe) / (1 − pe). Null when it is undefined: no images, or both readers gave every
 * image the same one call (chance agreement pe = 1; sklearn's cohen_kappa_score gives NaN there).
 */
export function cohenKappa(a: readonly boolean[], b: readonly boolean[]): number | null {
  if (a.length !== b.length) throw new RangeError('the two readers rated different image counts');
  const n = a.length;
  if (n === 0) return null;
  let agree = 0;
  let positiveA = 0;
  let positiveB = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    if (a[i]) positiveA++;
    if (b[i]) positiveB++;
  }
  const observed = agree / n;
  const chance = (positiveA / n) * (positiveB / n) + (1 - positiveA / n) * (1 - positiveB / n);
  if (chance >= 1) return null;
  return (observed - chance) / (1 - chance);
}

/**
 * Fleiss' kappa on negative/positive: `items[i]` = [readers who called image i negative, readers
 * who called it positive]; every image must have the same number of readers (≥ 2). Null when it
 * is undefined: no images, or every call of every reader was the same category (pe = 1;
 * statsmodels' fleiss_kappa gives NaN there).
 */
export function fleissKappa(items: readonly (readonly [number, number])[]): number | null {
  if (items.length === 0) return null;
  const raters = items[0][0] + items[0][1];
  if (raters < 2) throw new RangeError('Fleiss kappa needs at least two readers per image');
  let agreement = 0;
  let negatives = 0;
  let positives = 0;
  for (const [negative, positive] of items) {
    if (negative + positive !== raters) {
      throw new RangeError('Fleiss kappa needs the same number of readers on every image');
    }
    agreement += (negative * negative + positive * positive - raters) / (raters * (raters - 1));
    negatives += negative;
    positives += positive;
  }
  const total = items.length * raters;
  const observed = agreement / items.length;
  const chance = (negatives / total) ** 2 + (positives / total) ** 2;
  if (chance >= 1) return null;
  return (observed - chance) / (1 - chance);
}
