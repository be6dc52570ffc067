/**
 * The uncertainty score of a prediction, which the active-learning worklist sorts on (stored as
 * `prediction_stats.uncertainty` when a prediction is saved), and the rank correlation that
 * measures whether a score orders images by their error (bench/uncertainty.ts).
 *
 * The score is the mean binary entropy (bits) of the probabilities over the pixels the model
 * predicts as lesion (p >= 0.5, the mask's own threshold): 0 when the model outlines no lesion or
 * outlines it with certainty, towards 1 when the lesion it draws is mostly undecided (a faint
 * speck, a blurred outline relative to the lesion's size). Averaged over the whole image instead,
 * the background decided every image's figure (0.84 to 0.88 on nearly every demo image) and ranked
 * lesion-free images, which a model gets right, first. Only the drawn lesion counts because its
 * pixels are the ones whose doubt moves the Dice, and because how sure a model is of background
 * depends on how long it trained (0.2 to 0.4 after a short run) while the lesion's does not.
 */

/** Binary entropy in bits of the probability v/255, for each 8-bit value. */
const ENTROPY_BITS = Float64Array.from({ length: 256 }, (_, v) => {
  const p = v / 255;
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
});

/** The 8-bit value from which a pixel is predicted lesion: p >= 0.5, as the masks and Dice cut. */
const LESION_FROM = 128;

/** Mean binary entropy (bits) of an 8-bit probability map: 0 when sure, 1 when every pixel is 0.5. */
export function meanBinaryEntropy(probabilities: Uint8Array): number {
  const n = probabilities.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ENTROPY_BITS[probabilities[i]];
  return sum / n;
}

/**
 * The uncertainty score (0 sure .. 1 undecided) of an 8-bit probability map: the mean binary
 * entropy over the pixels predicted lesion, 0 when there are none.
 */
export function predictionUncertainty(probabilities: Uint8Array): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const v = probabilities[i];
    if (v < LESION_FROM) continue;
    sum += ENTROPY_BITS[v];
    count++;
  }
  return count === 0 ? 0 : sum / count;
}

/** Ranks 1..n of the values, ties sharing their mean rank. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((_, index) => index).sort((a, b) => values[a] - values[b]);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    for (let k = start; k < end; k++) out[order[k]] = (start + end + 1) / 2;
    start = end;
  }
  return out;
}

/**
 * Spearman's rank correlation of two paired lists (-1 .. 1; 0 when either is constant): how well
 * a score orders images by, say, their error.
 */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`spearman of ${a.length} and ${b.length} values`);
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (a.length + 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    covariance += (ra[i] - mean) * (rb[i] - mean);
    varianceA += (ra[i] - mean) ** 2;
    varianceB += (rb[i] - mean) ** 2;
  }
  return varianceA === 0 || varianceB === 0 ? 0 : covariance / Math.sqrt(varianceA * varianceB);
}
