/**
 * Training augmentation on plain typed arrays (cheap at training sizes, runs in the worker): one
 * geometric transform (shift, rotation about the centre, elastic deformation) applied to image and
 * mask alike, then brightness/contrast jitter on the image only. Deterministic for a seed.
 *
 * The elastic field follows the U-Net paper: random displacements on a coarse 3x3 grid, Gaussian
 * with 10 px standard deviation, upsampled to a per-pixel field by bicubic interpolation.
 */
import { Random } from '../math/random';

export interface AugmentOptions {
  /** Largest shift as a fraction of the size (uniform in [-maxShift, maxShift]). */
  maxShift: number;
  /** Largest rotation in degrees. */
  maxRotation: number;
  /** Standard deviation of the coarse elastic displacements in pixels (0 disables). */
  elasticSigma: number;
  elasticGrid: number;
  /** Brightness offset range (image values are 0..1). */
  brightness: number;
  /** Contrast factor range: 1 +- contrast. */
  contrast: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  maxShift: 0.06,
  maxRotation: 10,
  elasticSigma: 10,
  elasticGrid: 3,
  brightness: 0.1,
  contrast: 0.15,
};

/** Per-pixel displacement (dx, dy) in pixels, row-major. */
export interface DisplacementField {
  width: number;
  height: number;
  dx: Float32Array;
  dy: Float32Array;
}

/** Keys cubic convolution kernel (a = -0.5), the usual 'bicubic'. */
function cubicWeight(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x <= 1) return (a + 2) * x * x * x - (a + 3) * x * x + 1;
  if (x < 2) return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
  return 0;
}

/** Bicubic upsampling of a coarse grid (nodes spread from edge to edge) to width x height. */
export function bicubicUpsample(
  coarse: Float32Array,
  grid: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height);
  // A ring of ghost nodes extrapolated linearly, so the interpolant has no kink at the border
  // (and reproduces a linear ramp exactly).
  const side = grid + 2;
  const extended = new Float32Array(side * side);
  const set = (gx: number, gy: number, value: number) =>
    (extended[(gy + 1) * side + gx + 1] = value);
  const get = (gx: number, gy: number) => extended[(gy + 1) * side + gx + 1];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) set(gx, gy, coarse[gy * grid + gx]);
    set(-1, gy, grid > 1 ? 2 * get(0, gy) - get(1, gy) : get(0, gy));
    set(grid, gy, grid > 1 ? 2 * get(grid - 1, gy) - get(grid - 2, gy) : get(grid - 1, gy));
  }
  for (let gx = -1; gx <= grid; gx++) {
    set(gx, -1, grid > 1 ? 2 * get(gx, 0) - get(gx, 1) : get(gx, 0));
    set(gx, grid, grid > 1 ? 2 * get(gx, grid - 1) - get(gx, grid - 2) : get(gx, grid - 1));
  }
  const clampNode = (g: number) => Math.min(grid, Math.max(-1, g));
  const weightsFor = (pos: number) => {
    const base = Math.floor(pos);
    const frac = pos - base;
    return {
      base,
      w: [cubicWeight(1 + frac), cubicWeight(frac), cubicWeight(1 - frac), cubicWeight(2 - frac)],
    };
  };
  const columns = Array.from({ length: width }, (_, x) =>
    weightsFor(width === 1 ? 0 : (x * (grid - 1)) / (width - 1)),
  );
  // Separable: each node row interpolated along x once (the same sums in the same order as the
  // 4x4 sum per pixel, so the result is bit for bit the same), then the rows along y per pixel.
  const lines = new Float64Array(side * width);
  for (let gy = -1; gy <= grid; gy++) {
    const rowOffset = (gy + 1) * side + 1;
    for (let x = 0; x < width; x++) {
      const col = columns[x];
      let line = 0;
      for (let i = 0; i < 4; i++)
        line += col.w[i] * extended[rowOffset + clampNode(col.base - 1 + i)];
      lines[(gy + 1) * width + x] = line;
    }
  }
  for (let y = 0; y < height; y++) {
    const row = weightsFor(height === 1 ? 0 : (y * (grid - 1)) / (height - 1));
    const rows = [0, 1, 2, 3].map((j) => (clampNode(row.base - 1 + j) + 1) * width);
    const [w0, w1, w2, w3] = row.w;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      sum += w0 * lines[rows[0] + x];
      sum += w1 * lines[rows[1] + x];
      sum += w2 * lines[rows[2] + x];
      sum += w3 * lines[rows[3] + x];
      out[y * width + x] = sum;
    }
  }
  return out;
}

/** Random smooth displacement field: Gaussian coarse grid, bicubic upsampling. */
export function elasticField(
  random: Random,
  width: number,
  height: number,
  sigma: number,
  grid = 3,
): DisplacementField {
  const coarseX = new Float32Array(grid * grid);
  const coarseY = new Float32Array(grid * grid);
  for (let i = 0; i < grid * grid; i++) {
    coarseX[i] = random.gaussian() * sigma;
    coarseY[i] = random.gaussian() * sigma;
  }
  return {
    width,
    height,
    dx: bicubicUpsample(coarseX, grid, width, height),
    dy: bicubicUpsample(coarseY, grid, width, height),
  };
}

/** For each output pixel, the source coordinate to sample: affine then elastic. */
export interface SamplingMap {
  width: number;
  height: number;
  sx: Float32Array;
  sy: Float32Array;
}

export interface AugmentParams {
  shiftX: number;
  shiftY: number;
  rotation: number;
  field: DisplacementField | null;
  brightness: number;
  contrast: number;
}

export function drawAugmentParams(
  random: Random,
  width: number,
  height: number,
  options: AugmentOptions = DEFAULT_AUGMENT,
): AugmentParams {
  return {
    shiftX: random.uniform(-options.maxShift, options.maxShift) * width,
    shiftY: random.uniform(-options.maxShift, options.maxShift) * height,
    rotation: (random.uniform(-options.maxRotation, options.maxRotation) * Math.PI) / 180,
    field:
      options.elasticSigma > 0
        ? elasticField(random, width, height, options.elasticSigma, options.elasticGrid)
        : null,
    brightness: random.uniform(-options.brightness, options.brightness),
    contrast: 1 + random.uniform(-options.contrast, options.contrast),
  };
}

export function samplingMap(params: AugmentParams, width: number, height: number): SamplingMap {
  const sx = new Float32Array(width * height);
  const sy = new Float32Array(width * height);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(params.rotation);
  const sin = Math.sin(params.rotation);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // Output pixel -> source: undo the shift, then the rotation, then displace.
      const ux = x - params.shiftX - cx;
      const uy = y - params.shiftY - cy;
      let px = cos * ux + sin * uy + cx;
      let py = -sin * ux + cos * uy + cy;
      if (params.field) {
        px += params.field.dx[i];
        py += params.field.dy[i];
      }
      sx[i] = px;
      sy[i] = py;
    }
  }
  return { width, height, sx, sy };
}

/** Reflects a coordinate into [0, n - 1] (mirror boundary, no border seam). */
function reflect(value: number, n: number): number {
  if (value >= 0 && value <= n - 1) return value;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let v = Math.abs(value) % period;
  if (v > n - 1) v = period - v;
  return v;
}

/** Bilinear sampling of a float image through the map (mirror boundary). */
export function warpBilinear(source: Float32Array, map: SamplingMap): Float32Array {
  const { width, height } = map;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const x = reflect(map.sx[i], width);
    const y = reflect(map.sy[i], height);
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.min(width - 1, x0 + 1);
    const y1 = Math.min(height - 1, y0 + 1);
    const fx = x - x0;
    const fy = y - y0;
    const top = source[y0 * width + x0] * (1 - fx) + source[y0 * width + x1] * fx;
    const bottom = source[y1 * width + x0] * (1 - fx) + source[y1 * width + x1] * fx;
    out[i] = top * (1 - fy) + bottom * fy;
  }
  return out;
}

/** Nearest sampling of a mask through the map, so labels stay binary. */
export function warpNearest(source: Float32Array, map: SamplingMap): Float32Array {
  const { width, height } = map;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const x = Math.round(reflect(map.sx[i], width));
    const y = Math.round(reflect(map.sy[i], height));
    out[i] = source[y * width + x];
  }
  return out;
}

export interface Sample {
  image: Float32Array;
  mask: Float32Array;
  width: number;
  height: number;
}

/** Augments one image/mask pair; the same params always give the same output. */
export function applyAugment(sample: Sample, params: AugmentParams): Sample {
  const map = samplingMap(params, sample.width, sample.height);
  const image = warpBilinear(sample.image, map);
  const mask = warpNearest(sample.mask, map);
  // Contrast about the mean keeps the jitter from shifting the whole histogram twice.
  let mean = 0;
  for (let i = 0; i < image.length; i++) mean += image[i];
  mean /= image.length || 1;
  for (let i = 0; i < image.length; i++) {
    const value = (image[i] - mean) * params.contrast + mean + params.brightness;
    image[i] = value < 0 ? 0 : value > 1 ? 1 : value;
  }
  return { image, mask, width: sample.width, height: sample.height };
}

export function augment(
  sample: Sample,
  seed: number,
  options: AugmentOptions = DEFAULT_AUGMENT,
): Sample {
  return applyAugment(
    sample,
    drawAugmentParams(new Random(seed), sample.width, sample.height, options),
  );
}
