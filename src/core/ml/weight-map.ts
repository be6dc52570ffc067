/**
 * Pixel weights of the U-Net paper for touching regions, computed on the CPU from a binary mask:
 *   w(x) = wc(x) + w0 * exp(-(d1(x) + d2(x))^2 / (2 sigma^2))
 * wc balances the two classes' frequencies, d1 and d2 are the distances to the nearest and the
 * second-nearest foreground region (8-connected). The border term applies to background pixels,
 * so the thin gaps between regions weigh most.
 */

export interface WeightMapOptions {
  w0: number;
  sigma: number;
}

export const DEFAULT_WEIGHT_MAP: WeightMapOptions = { w0: 10, sigma: 5 };

/** 8-connected components of mask > 0; labels 1..count, 0 for background. */
export function labelComponents(
  mask: ArrayLike<number>,
  width: number,
  height: number,
): { labels: Int32Array; count: number } {
  const labels = new Int32Array(width * height);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (!(mask[start] > 0) || labels[start] !== 0) continue;
    count += 1;
    labels[start] = count;
    stack.push(start);
    while (stack.length > 0) {
      const index = stack.pop()!;
      const x = index % width;
      const y = (index - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const next = ny * width + nx;
          if (mask[next] > 0 && labels[next] === 0) {
            labels[next] = count;
            stack.push(next);
          }
        }
      }
    }
  }
  return { labels, count };
}

const FAR = 1e20;

/** 1-D squared distance transform (Felzenszwalb & Huttenlocher) of f, written to out. */
function distance1d(
  f: Float64Array,
  n: number,
  out: Float64Array,
  v: Int32Array,
  z: Float64Array,
): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k -= 1;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k += 1;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k += 1;
    out[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/** Exact Euclidean distance from every pixel to the nearest pixel where `inside` is true. */
export function distanceTransform(
  inside: (index: number) => boolean,
  width: number,
  height: number,
): Float64Array {
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const grid = new Float64Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = inside(i) ? 0 : FAR;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = grid[y * width + x];
    distance1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) grid[y * width + x] = d[y];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x];
    distance1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) grid[y * width + x] = Math.sqrt(d[x]);
  }
  return grid;
}

/** Class-balance weights: each class gets half the total weight; mean weight is 1. */
export function classBalanceWeights(mask: ArrayLike<number>): {
  foreground: number;
  background: number;
} {
  let foreground = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) foreground++;
  const background = mask.length - foreground;
  if (foreground === 0 || background === 0) return { foreground: 1, background: 1 };
  return { foreground: mask.length / (2 * foreground), background: mask.length / (2 * background) };
}

export function borderWeightMap(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  options: WeightMapOptions = DEFAULT_WEIGHT_MAP,
): Float32Array {
  const balance = classBalanceWeights(mask);
  const weights = new Float32Array(width * height);
  for (let i = 0; i < weights.length; i++)
    weights[i] = mask[i] > 0 ? balance.foreground : balance.background;
  const { labels, count } = labelComponents(mask, width, height);
  if (count < 2) return weights;
  const nearest = new Float64Array(weights.length).fill(Infinity);
  const second = new Float64Array(weights.length).fill(Infinity);
  for (let label = 1; label <= count; label++) {
    const distance = distanceTransform((i) => labels[i] === label, width, height);
    for (let i = 0; i < weights.length; i++) {
      const value = distance[i];
      if (value < nearest[i]) {
        second[i] = nearest[i];
        nearest[i] = value;
      } else if (value < second[i]) {
        second[i] = value;
      }
    }
  }
  const denominator = 2 * options.sigma * options.sigma;
  for (let i = 0; i < weights.length; i++) {
    if (mask[i] > 0) continue;
    const gap = nearest[i] + second[i];
    weights[i] += options.w0 * Math.exp(-(gap * gap) / denominator);
  }
  return weights;
}
