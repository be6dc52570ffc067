/**
 * STAPLE (Warfield, Zou, Wells 2004, "Simultaneous truth and performance level estimation") for
 * binary masks, and the majority vote. STAPLE estimates by expectation-maximisation, for each
 * pixel i, the probability W_i that it is truly lesion, and for each reader j a sensitivity p_j
 * (the share of true lesion they marked) and a specificity q_j (the share of true background they
 * left unmarked):
 *
 *   E-step  W_i = g·a_i / (g·a_i + (1 − g)·b_i),  a_i = Π_j p_j^D_ij (1 − p_j)^(1 − D_ij),
 *                                                 b_i = Π_j q_j^(1 − D_ij) (1 − q_j)^D_ij
 *   M-step  p_j = Σ_i D_ij W_i / Σ_i W_i,          q_j = Σ_i (1 − D_ij)(1 − W_i) / Σ_i (1 − W_i)
 *
 * g is the prior probability of lesion: the mean foreground fraction of the readers' masks unless
 * given. As ITK's itk::STAPLEImageFilter, W starts as the readers' mean (the share of readers who
 * marked the pixel) and each iteration is an M-step then an E-step; it stops when no p_j or q_j
 * moved by more than `tolerance` (default 1e-7, ITK's squared 1e-14) after the second iteration,
 * or after `maxIterations`. Pixels the same readers marked share W, so the EM runs over those
 * call patterns weighted by their pixel counts (the same sums, in another order).
 *
 * Degenerate images never give NaN: when every reader left the mask empty (and no prior is given)
 * the probability is 0 everywhere and every p_j = q_j = 1 (there was no lesion to miss and no
 * background was marked; p is vacuous, 1 by convention). Likewise a p_j whose Σ W is 0, or a q_j
 * whose Σ (1 − W) is 0, is 1, and a pixel whose two products are both 0 takes the prior.
 */

export interface StapleOptions {
  /** Default 200. */
  maxIterations?: number;
  /** Largest change of any p_j or q_j between iterations that counts as converged (1e-7). */
  tolerance?: number;
  /** Prior probability that a pixel is lesion; default the readers' mean foreground fraction. */
  prior?: number;
}

export interface StapleResult {
  /** W: per pixel, the probability that it is truly lesion (0..1). */
  probability: Float32Array;
  /** p_j per reader, in the order of the masks. */
  sensitivity: number[];
  /** q_j per reader. */
  specificity: number[];
  /** EM iterations run (M-step and E-step each); 0 for an image every reader left empty. */
  iterations: number;
}

function checkSizes(masks: Uint8Array[]): number {
  if (masks.length === 0) throw new RangeError('no masks to combine');
  const size = masks[0].length;
  for (const mask of masks) {
    if (mask.length !== size) throw new RangeError('the masks differ in size');
  }
  return size;
}

/**
 * The readers' calls grouped by pattern: pixels that the same readers marked share W, so the EM
 * runs over the distinct patterns (at most 2^readers, usually a handful) weighted by their pixel
 * counts; the sums are the same as over the pixels.
 */
function callPatterns(masks: Uint8Array[], size: number) {
  const readers = masks.length;
  const pixelPattern = new Uint32Array(size);
  const keyOf = new Map<number | string, number>();
  const marks: Uint8Array[] = [];
  const counts: number[] = [];
  const chunk = 30;
  // Up to 16 readers, a table of every pattern is faster than a map.
  const table = readers <= 16 ? new Int32Array(1 << readers).fill(-1) : null;
  for (let i = 0; i < size; i++) {
    let key: number | string = 0;
    if (readers <= chunk) {
      let bits = 0;
      for (let j = 0; j < readers; j++) if (masks[j][i] > 0) bits |= 1 << j;
      key = bits;
    } else {
      const parts: number[] = [];
      for (let start = 0; start < readers; start += chunk) {
        let bits = 0;
        for (let j = start; j < Math.min(readers, start + chunk); j++) {
          if (masks[j][i] > 0) bits |= 1 << (j - start);
        }
        parts.push(bits);
      }
      key = parts.join(',');
    }
    let index = table && typeof key === 'number' ? table[key] : keyOf.get(key);
    if (index === undefined || index < 0) {
      index = counts.length;
      if (table && typeof key === 'number') table[key] = index;
      else keyOf.set(key, index);
      counts.push(0);
      marks.push(Uint8Array.from(masks, (mask) => (mask[i] > 0 ? 1 : 0)));
    }
    counts[index]++;
    pixelPattern[i] = index;
  }
  return { pixelPattern, marks, counts };
}

/** STAPLE of binary masks (one byte per pixel, > 0 lesion), all of the same size. */
export function staple(masks: Uint8Array[], options: StapleOptions = {}): StapleResult {
  const size = checkSizes(masks);
  const readers = masks.length;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-7;
  const { pixelPattern, marks, counts } = callPatterns(masks, size);
  const patterns = counts.length;
  // W per pattern, starting as the share of readers who marked it.
  const w = new Float64Array(patterns);
  let marked = 0;
  for (let k = 0; k < patterns; k++) {
    let votes = 0;
    for (let j = 0; j < readers; j++) votes += marks[k][j];
    w[k] = votes / readers;
    marked += votes * counts[k];
  }
  const prior = options.prior ?? (size === 0 ? 0 : marked / (size * readers));
  if (marked === 0 && options.prior === undefined) {
    return {
      probability: new Float32Array(size),
      sensitivity: masks.map(() => 1),
      specificity: masks.map(() => 1),
      iterations: 0,
    };
  }
  const p = new Array<number>(readers).fill(1);
  const q = new Array<number>(readers).fill(1);
  const lastP = new Array<number>(readers).fill(Number.NaN);
  const lastQ = new Array<number>(readers).fill(Number.NaN);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    // M-step: each reader's sensitivity and specificity against the current W.
    let wSum = 0;
    let backgroundSum = 0;
    for (let k = 0; k < patterns; k++) {
      wSum += counts[k] * w[k];
      backgroundSum += counts[k] * (1 - w[k]);
    }
    for (let j = 0; j < readers; j++) {
      let pNum = 0;
      let qNum = 0;
      for (let k = 0; k < patterns; k++) {
        if (marks[k][j]) pNum += counts[k] * w[k];
        else qNum += counts[k] * (1 - w[k]);
      }
      p[j] = wSum > 0 ? pNum / wSum : 1;
      q[j] = backgroundSum > 0 ? qNum / backgroundSum : 1;
    }
    // E-step: each pattern's probability of lesion given every reader's call.
    for (let k = 0; k < patterns; k++) {
      let a = 1;
      let b = 1;
      for (let j = 0; j < readers; j++) {
        if (marks[k][j]) {
          a *= p[j];
          b *= 1 - q[j];
        } else {
          a *= 1 - p[j];
          b *= q[j];
        }
      }
      const denominator = prior * a + (1 - prior) * b;
      w[k] = denominator > 0 ? (prior * a) / denominator : prior;
    }
    let converged = iterations > 1;
    for (let j = 0; j < readers && converged; j++) {
      if (Math.abs(p[j] - lastP[j]) > tolerance || Math.abs(q[j] - lastQ[j]) > tolerance) {
        converged = false;
      }
    }
    for (let j = 0; j < readers; j++) {
      lastP[j] = p[j];
      lastQ[j] = q[j];
    }
    if (converged) break;
  }
  const probability = new Float32Array(size);
  for (let i = 0; i < size; i++) probability[i] = w[pixelPattern[i]];
  return { probability, sensitivity: p, specificity: q, iterations };
}

/**
 * Majority vote: 255 where more than half of the readers marked the pixel, else 0. A tie (an even
 * number of readers, exactly half marking it) is background: a pixel needs a strict majority.
 */
export function majorityVote(masks: Uint8Array[]): Uint8Array {
  const size = checkSizes(masks);
  const votes = new Uint16Array(size);
  for (const mask of masks) for (let i = 0; i < size; i++) if (mask[i] > 0) votes[i]++;
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = votes[i] * 2 > masks.length ? 255 : 0;
  return out;
}
