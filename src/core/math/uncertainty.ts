/**
 * The uncertainty score of a prediction, which the active-learning worklist sorts on (stored as
 * `prediction_stats.uncertainty` when a prediction is saved), and the rank correlation that
 * measures whether a score orders images by their error (bench/uncertainty.ts).
 *
 * The score (predictionUncertainty) looks at what the model predicted as lesion and at what it
 * nearly predicted, relative to the image's own background, and weighs the doubt by how much lesion
 * is at stake. Chosen in bench/uncertainty.ts against 1 - Dice over many models, weak ones
 * included, among: the mean entropy over the predicted lesion only (it ranked missed lesions last
 * and specks first), entropy over the pixels above a fixed floor (weak models put their whole
 * background above any useful floor), the expected 1 - Dice under the model's own probabilities
 * and the disagreement of the masks cut at 0.35 and 0.65 (both negative for well-trained models,
 * whose lesion-free images then ranked first). Averaged over the whole image, the background decided
 * every image's figure and ranked lesion-free images, which a model gets right, first.
 */

/** Binary entropy in bits of the probability v/255, for each 8-bit value. */
const ENTROPY_BITS = Float64Array.from({ length: 256 }, (_, v) => {
  const p = v / 255;
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
});

/** The 8-bit value from which a pixel is predicted lesion: p >= 0.5, as the masks and Dice cut. */
export const LESION_FROM = 128;

/** Mean binary entropy (bits) of an 8-bit probability map: 0 when sure, 1 when every pixel is 0.5. */
export function meanBinaryEntropy(probabilities: Uint8Array): number {
  const n = probabilities.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ENTROPY_BITS[probabilities[i]];
  return sum / n;
}

/**
 * The score this replaced (migration 7 to 8): the mean binary entropy over the pixels predicted
 * lesion, 0 when there are none. It ranked a missed lesion (nothing drawn) last and a one-pixel
 * speck at p = 0.5 first; bench/uncertainty.ts still prints it beside the stored score.
 */
export function lesionEntropyUncertainty(probabilities: Uint8Array): number {
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

/**
 * How far from the image's own background (its median p) towards the mask threshold a pixel must
 * lie to count as "nearly predicted": its doubt enters the score. A fixed floor failed: weak
 * models put all of their background at p 0.25-0.45.
 */
const NEAR_FRACTION = 0.9;

/** How far a pixel must lie to count towards the lesion's extent, the area at stake. */
const EXTENT_FRACTION = 0.3;

/**
 * The extent (fraction of the image) from which doubt counts in full; a smaller lesion scales the
 * score down in proportion, so a one-pixel speck at p = 0.5 does not top the queue.
 */
const FULL_STAKE_FRACTION = 0.005;

/** Median of 8-bit values (the image's background probability: lesions are a minority). */
export function median8(values: Uint8Array): number {
  const histogram = new Uint32Array(256);
  for (let i = 0; i < values.length; i++) histogram[values[i]]++;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v];
    if (seen * 2 >= values.length) return v;
  }
  return 255;
}

/** The 8-bit value `fraction` of the way from `background` to the mask threshold. */
function towardsThreshold(background: number, fraction: number): number {
  if (background >= LESION_FROM) return LESION_FROM;
  return Math.ceil(background + fraction * (LESION_FROM - background));
}

/**
 * The uncertainty score (0 sure .. 1 undecided) of an 8-bit probability map: how much a reviewer
 * should doubt what the model drew, or nearly drew, as lesion.
 * - The pixels in doubt are those predicted lesion (p >= 0.5) and those nearly predicted: above
 *   the image's background (its median p) by more than 90% of the way to the threshold. The
 *   score is their mean binary entropy (bits): a blob at p 0.45 on a background of 0.05 (a lesion
 *   the model missed but nearly drew) scores about 1, a confident outline about 0.
 * - It is scaled by the lesion at stake: the pixels 30% of the way above the background, as a
 *   share of 0.5% of the image, capped at 1. A one-pixel speck at p = 0.5 scores by its size.
 * What it misses: a lesion the model does not raise above the rest of the image (then 0, like a
 * lesion-free image predicted with certainty), and a model's confident mistakes.
 */
export function predictionUncertainty(probabilities: Uint8Array): number {
  const n = probabilities.length;
  if (n === 0) return 0;
  const background = median8(probabilities);
  const near = towardsThreshold(background, NEAR_FRACTION);
  const extentFrom = towardsThreshold(background, EXTENT_FRACTION);
  let sum = 0;
  let count = 0;
  let extent = 0;
  for (let i = 0; i < n; i++) {
    const v = probabilities[i];
    if (v >= extentFrom) extent++;
    if (v < near) continue;
    sum += ENTROPY_BITS[v];
    count++;
  }
  if (count === 0) return 0;
  const stake = Math.min(1, extent / (FULL_STAKE_FRACTION * n));
  return (sum / count) * stake;
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

/**
 * How much the passes' masks (p >= 0.5) disagree: 1 - (pixels every pass draws) / (pixels any
 * pass draws), 0 when none draws any, scaled by the drawn area as a share of 0.5% of the image so
 * a speck's disagreement counts by its size.
 */
export function maskDisagreement(maps: readonly Uint8Array[]): number {
  if (maps.length < 2) return 0;
  const n = maps[0].length;
  let every = 0;
  let any = 0;
  for (let i = 0; i < n; i++) {
    let drawn = 0;
    for (const map of maps) if (map[i] >= LESION_FROM) drawn++;
    if (drawn > 0) any++;
    if (drawn === maps.length) every++;
  }
  if (any === 0) return 0;
  return (1 - every / any) * Math.min(1, any / (FULL_STAKE_FRACTION * n));
}

/** The weight of the passes' disagreement beside the plain map's doubt (bench/uncertainty.ts). */
const DISAGREEMENT_WEIGHT = 0.5;

/**
 * The uncertainty score of several predictions of one image (test-time flips and shifts moved back
 * onto the image; the first is the plain prediction, the one stored), 0 .. 1: the plain map's
 * predictionUncertainty plus half the passes' maskDisagreement, over 1.5. One map:
 * predictionUncertainty. Chosen in bench/uncertainty.ts (README "uncertainty"): over 8 models
 * trained without dropout it raised the worst Spearman with 1 - Dice from 0.20 to 0.45 (mean 0.55
 * to 0.58), with dropout 0.2 from 0.16 to 0.29 (0.45 to 0.49); it ranks missed lesions somewhat
 * lower (16 of 82 in the top quarter against 21), since passes that all draw nothing agree.
 * Versions trained here store their calibrated score instead (./uncertainty-calibration.ts); this
 * one is the fallback for versions without a calibration.
 */
export function passesUncertainty(maps: readonly Uint8Array[]): number {
  if (maps.length === 0) return 0;
  if (maps.length === 1) return predictionUncertainty(maps[0]);
  const doubt = predictionUncertainty(maps[0]) + DISAGREEMENT_WEIGHT * maskDisagreement(maps);
  return doubt / (1 + DISAGREEMENT_WEIGHT);
}
