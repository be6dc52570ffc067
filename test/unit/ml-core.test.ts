/**
 * The engine's pure parts: losses against hand-computed values, the paper's border weight map,
 * augmentation (alignment, determinism, smooth elastic field), overlap-tile against a full-image
 * prediction, the memory estimate's refusal, and model/optimizer save-load round trips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../../src/core/ml/backends';
import type { Tf } from '../../src/core/ml/tf';
import { bce, computeLoss, softDice } from '../../src/core/ml/losses';
import {
  borderWeightMap,
  classBalanceWeights,
  labelComponents,
} from '../../src/core/ml/weight-map';
import {
  applyAugment,
  augment,
  bicubicUpsample,
  DEFAULT_AUGMENT,
  drawAugmentParams,
  elasticField,
} from '../../src/core/ml/augment';
import { Random } from '../../src/core/math/random';
import { mirrorPad, overlapTile } from '../../src/core/ml/tile';
import { estimateTrainingMemory, memoryRefusal } from '../../src/core/ml/memory';
import { buildUNet } from '../../src/core/ml/unet';
import { cropItem } from '../../src/core/ml/trainer';
import { loadModel, loadOptimizer, saveModel, saveOptimizer } from '../../src/core/ml/model-io';

let tf: Tf;

beforeAll(async () => {
  tf = (await loadRuntime('wasm')).tf;
}, 60_000);

function scalar(t: tfTypes.Scalar): number {
  const value = t.dataSync()[0];
  t.dispose();
  return value;
}

describe('losses', () => {
  const y = [1, 0, 1, 0];
  const p = [0.9, 0.2, 0.6, 0.1];
  const make = () => ({ yt: tf.tensor4d(y, [1, 2, 2, 1]), pt: tf.tensor4d(p, [1, 2, 2, 1]) });

  it('BCE, soft Dice, BCE + Dice and weighted BCE match hand-computed values', () => {
    const { yt, pt } = make();
    const expectedBce = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + Math.log(0.9)) / 4;
    const expectedDice = 1 - (2 * (0.9 + 0.6) + 1) / (2 + 1.8 + 1);
    expect(scalar(bce(tf, yt, pt))).toBeCloseTo(expectedBce, 5);
    expect(scalar(softDice(tf, yt, pt))).toBeCloseTo(expectedDice, 5);
    expect(scalar(computeLoss(tf, 'bce-dice', yt, pt))).toBeCloseTo(expectedBce + expectedDice, 5);
    const w = tf.tensor4d([2, 1, 1, 3], [1, 2, 2, 1]);
    const expectedWeighted =
      -(2 * Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + 3 * Math.log(0.9)) / 4;
    expect(scalar(computeLoss(tf, 'weighted-bce', yt, pt, w))).toBeCloseTo(expectedWeighted, 5);
    expect(() => computeLoss(tf, 'weighted-bce', yt, pt)).toThrow(/weight map/);
    tf.dispose([yt, pt, w]);
  });

  it('soft Dice of a perfect prediction is 0, also when both masks are empty', () => {
    const ones = tf.ones([1, 4, 4, 1]);
    const zeros = tf.zeros([1, 4, 4, 1]);
    expect(scalar(softDice(tf, ones, ones))).toBeCloseTo(0, 6);
    expect(scalar(softDice(tf, zeros, zeros))).toBeCloseTo(0, 6);
    expect(scalar(softDice(tf, ones, zeros))).toBeGreaterThan(0.9);
    tf.dispose([ones, zeros]);
  });
});

describe('border weight map', () => {
  const width = 16;
  const height = 10;
  // Two 4x4 squares with a two-pixel gap (columns 6 and 7) between them.
  const mask = new Uint8Array(width * height);
  for (let y = 2; y < 6; y++) {
    for (let x = 2; x < 6; x++) mask[y * width + x] = 1;
    for (let x = 8; x < 12; x++) mask[y * width + x] = 1;
  }

  it('labels 8-connected regions', () => {
    expect(labelComponents(mask, width, height).count).toBe(2);
    const diagonal = new Uint8Array([1, 0, 0, 1]);
    expect(labelComponents(diagonal, 2, 2).count).toBe(1);
  });

  it('follows w(x) = wc(x) + w0 exp(-(d1 + d2)^2 / (2 sigma^2)) on the background', () => {
    const weights = borderWeightMap(mask, width, height, { w0: 10, sigma: 5 });
    const balance = classBalanceWeights(mask);
    // Column 6 of row 3: 1 px from the left square, 2 px from the right one.
    expect(weights[3 * width + 6]).toBeCloseTo(balance.background + 10 * Math.exp(-9 / 50), 4);
    // Pixel (0, 9): d1 = distance to (2, 5) = sqrt(4 + 16), d2 = distance to (8, 5) = sqrt(64 + 16).
    const d1 = Math.sqrt(20);
    const d2 = Math.sqrt(80);
    expect(weights[9 * width + 0]).toBeCloseTo(
      balance.background + 10 * Math.exp(-((d1 + d2) ** 2) / 50),
      4,
    );
    // Foreground pixels carry only the class weight.
    expect(weights[3 * width + 3]).toBeCloseTo(balance.foreground, 6);
    // The gap weighs more than anywhere else on the background.
    const gap = weights[3 * width + 6];
    for (let i = 0; i < weights.length; i++)
      if (!mask[i]) expect(weights[i]).toBeLessThanOrEqual(gap + 1e-6);
  });

  it('has no border term for a single region', () => {
    const one = new Uint8Array(mask);
    for (let i = 0; i < one.length; i++) if (i % width >= 8) one[i] = 0;
    const weights = borderWeightMap(one, width, height);
    const balance = classBalanceWeights(one);
    for (let i = 0; i < weights.length; i++) {
      expect(weights[i]).toBeCloseTo(one[i] ? balance.foreground : balance.background, 6);
    }
  });
});

describe('augmentation', () => {
  const size = 96;
  /** An image with bright discs and its mask drawn from the image itself. */
  function scene(): { image: Float32Array; mask: Float32Array } {
    const image = new Float32Array(size * size).fill(0.2);
    const discs = [
      [30, 30, 12],
      [62, 58, 18],
      [20, 75, 8],
    ];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (discs.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 < r * r))
          image[y * size + x] = 0.8;
      }
    }
    return { image, mask: image.map((v) => (v > 0.5 ? 1 : 0)) };
  }

  function agreement(image: Float32Array, mask: Float32Array): number {
    // The two levels move together under brightness/contrast; split at the midpoint of the two.
    const sorted = [...image].sort((a, b) => a - b);
    const low = sorted[Math.floor(sorted.length * 0.05)];
    const high = sorted[Math.floor(sorted.length * 0.995)];
    const cut = (low + high) / 2;
    let same = 0;
    for (let i = 0; i < image.length; i++) if (image[i] > cut === mask[i] > 0.5) same++;
    return same / image.length;
  }

  it('keeps the mask aligned with the image under shift, rotation, elastic and jitter', () => {
    const { image, mask } = scene();
    for (const seed of [1, 2, 3, 4, 5]) {
      const out = augment({ image, mask, width: size, height: size }, seed);
      expect(agreement(out.image, out.mask)).toBeGreaterThan(0.985);
      // The transform did something: the mask moved.
      let moved = 0;
      for (let i = 0; i < mask.length; i++) if (out.mask[i] !== mask[i]) moved++;
      expect(moved).toBeGreaterThan(50);
    }
  });

  it('would catch a misaligned mask', () => {
    const { image, mask } = scene();
    const a = augment({ image, mask, width: size, height: size }, 1);
    const b = augment({ image, mask, width: size, height: size }, 2);
    expect(agreement(a.image, b.mask)).toBeLessThan(0.97);
  });

  it('is deterministic for a seed and varies across seeds', () => {
    const { image, mask } = scene();
    const a = augment({ image, mask, width: size, height: size }, 7);
    const b = augment({ image, mask, width: size, height: size }, 7);
    const c = augment({ image, mask, width: size, height: size }, 8);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
    expect(Buffer.from(a.mask.buffer).equals(Buffer.from(b.mask.buffer))).toBe(true);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(c.image.buffer))).toBe(false);
  });

  it('keeps masks binary and touches brightness only on the image', () => {
    const { image, mask } = scene();
    const params = drawAugmentParams(new Random(3), size, size, {
      ...DEFAULT_AUGMENT,
      maxShift: 0,
      maxRotation: 0,
      elasticSigma: 0,
    });
    params.brightness = 0.1;
    params.contrast = 1;
    const out = applyAugment({ image, mask, width: size, height: size }, params);
    expect(out.mask).toEqual(mask);
    expect(out.image[0]).toBeCloseTo(0.3, 5);
    expect(new Set(augment({ image, mask, width: size, height: size }, 9).mask)).toEqual(
      new Set([0, 1]),
    );
  });

  it('elastic field: Gaussian 10 px nodes on a 3x3 grid, bicubic and smooth between them', () => {
    const width = 256;
    const nodes: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const field = elasticField(new Random(seed), width, width, 10, 3);
      // Bicubic interpolation passes through the grid nodes (corners, edge centres, centre).
      for (const [x, y] of [
        [0, 0],
        [width - 1, 0],
        [0, width - 1],
      ]) {
        nodes.push(field.dx[y * width + x]);
      }
      let maxFirst = 0;
      let maxSecond = 0;
      for (let y = 0; y < width; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          for (const d of [field.dx, field.dy]) {
            maxFirst = Math.max(maxFirst, Math.abs(d[i + 1] - d[i]));
            maxSecond = Math.max(maxSecond, Math.abs(d[i + 1] - 2 * d[i] + d[i - 1]));
          }
        }
      }
      expect(maxFirst).toBeLessThan(1.5);
      expect(maxSecond).toBeLessThan(0.05);
    }
    const mean = nodes.reduce((a, b) => a + b, 0) / nodes.length;
    const sd = Math.sqrt(nodes.reduce((a, b) => a + (b - mean) ** 2, 0) / nodes.length);
    expect(sd).toBeGreaterThan(7);
    expect(sd).toBeLessThan(13);
  });

  it('bicubic upsampling reproduces the coarse nodes and a linear ramp exactly', () => {
    const coarse = new Float32Array([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    const out = bicubicUpsample(coarse, 3, 9, 9);
    for (let x = 0; x < 9; x++) expect(out[4 * 9 + x]).toBeCloseTo(x / 4, 5);
  });

  it('separable bicubic upsampling is bit for bit the 4x4 sum per pixel', () => {
    // The per-pixel definition: 16 clamped ghost-ring nodes, rows of 4 summed then weighted.
    const cubic = (t: number) => {
      const [a, x] = [-0.5, Math.abs(t)];
      if (x <= 1) return (a + 2) * x * x * x - (a + 3) * x * x + 1;
      if (x < 2) return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
      return 0;
    };
    const reference = (coarse: Float32Array, grid: number, width: number, height: number) => {
      const side = grid + 2;
      const e = new Float32Array(side * side);
      const set = (gx: number, gy: number, v: number) => (e[(gy + 1) * side + gx + 1] = v);
      const get = (gx: number, gy: number) => e[(gy + 1) * side + gx + 1];
      for (let gy = 0; gy < grid; gy++) {
        for (let gx = 0; gx < grid; gx++) set(gx, gy, coarse[gy * grid + gx]);
        set(-1, gy, grid > 1 ? 2 * get(0, gy) - get(1, gy) : get(0, gy));
        set(grid, gy, grid > 1 ? 2 * get(grid - 1, gy) - get(grid - 2, gy) : get(grid - 1, gy));
      }
      for (let gx = -1; gx <= grid; gx++) {
        set(gx, -1, grid > 1 ? 2 * get(gx, 0) - get(gx, 1) : get(gx, 0));
        set(gx, grid, grid > 1 ? 2 * get(gx, grid - 1) - get(gx, grid - 2) : get(gx, grid - 1));
      }
      const clamp = (g: number) => Math.min(grid, Math.max(-1, g));
      const weights = (pos: number) => {
        const base = Math.floor(pos);
        const f = pos - base;
        return { base, w: [cubic(1 + f), cubic(f), cubic(1 - f), cubic(2 - f)] };
      };
      const out = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        const row = weights(height === 1 ? 0 : (y * (grid - 1)) / (height - 1));
        for (let x = 0; x < width; x++) {
          const col = weights(width === 1 ? 0 : (x * (grid - 1)) / (width - 1));
          let sum = 0;
          for (let j = 0; j < 4; j++) {
            let line = 0;
            for (let i = 0; i < 4; i++)
              line += col.w[i] * get(clamp(col.base - 1 + i), clamp(row.base - 1 + j));
            sum += row.w[j] * line;
          }
          out[y * width + x] = sum;
        }
      }
      return out;
    };
    const random = new Random(5);
    for (const [grid, width, height] of [
      [3, 64, 64],
      [4, 37, 23],
      [2, 1, 9],
      [1, 5, 4],
      [5, 128, 96],
    ]) {
      const coarse = new Float32Array(grid * grid).map(() => random.gaussian() * 10);
      expect(bicubicUpsample(coarse, grid, width, height)).toEqual(
        reference(coarse, grid, width, height),
      );
    }
  });
});

describe('overlap-tile', () => {
  it('reproduces the full-image prediction of a translation-equivariant model', async () => {
    const width = 83;
    const height = 61;
    const random = new Random(11);
    const image = new Float32Array(width * height).map(() => random.next());
    const kernel = tf.tensor4d(
      Array.from({ length: 25 }, () => random.next() - 0.5),
      [5, 5, 1, 1],
    );
    const convolve = (data: Float32Array, w: number, h: number, n = 1) =>
      tf.tidy(
        () =>
          tf.conv2d(tf.tensor4d(data, [n, h, w, 1]), kernel, 1, 'same').dataSync() as Float32Array,
      );
    // Reference: the whole image at once, mirror-padded so borders see the same context.
    const pad = 8;
    const padded = mirrorPad(image, width, height, {
      top: pad,
      bottom: pad,
      left: pad,
      right: pad,
    });
    const full = convolve(padded.data, padded.width, padded.height);
    let tiles = 0;
    const tiled = await overlapTile(
      image,
      width,
      height,
      async (batch) => {
        tiles += batch.length;
        const input = new Float32Array(batch.length * 32 * 32);
        batch.forEach((tile, i) => input.set(tile, i * 32 * 32));
        const out = convolve(input, 32, 32, batch.length);
        return batch.map((_, i) => out.slice(i * 1024, (i + 1) * 1024));
      },
      { size: 32, overlap: 8 },
    );
    expect(tiles).toBeGreaterThan(6);
    let maxError = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const expected = full[(y + pad) * padded.width + x + pad];
        maxError = Math.max(maxError, Math.abs(tiled[y * width + x] - expected));
      }
    }
    expect(maxError).toBeLessThan(1e-5);
    kernel.dispose();
  });

  it('handles images smaller than a tile', async () => {
    const image = new Float32Array(20 * 12).map((_, i) => i / 240);
    const out = await overlapTile(image, 20, 12, async (batch) => batch, { size: 32 });
    for (let i = 0; i < image.length; i++) expect(out[i]).toBeCloseTo(image[i], 6);
  });
});

describe('memory estimate', () => {
  it('refuses base 32 at batch 4 on wasm and names a configuration that fits', () => {
    const config = { size: 256, base: 32, batch: 4 };
    expect(estimateTrainingMemory(config).fits).toBe(false);
    const message = memoryRefusal(config, 'wasm');
    expect(message).toMatch(/--batch \d|--base \d/);
    const batch = Number(/--batch (\d+)/.exec(message ?? '')?.[1]);
    expect(estimateTrainingMemory({ ...config, batch }).fits).toBe(true);
    expect(memoryRefusal({ size: 256, base: 16, batch: 4 }, 'wasm')).toBeNull();
    expect(memoryRefusal(config, 'tensorflow', null)).toBeNull();
  });
});

describe('model files', () => {
  it('round-trips a U-Net and its optimizer state through model.json + weights.bin', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-model-'));
    const model = buildUNet({ size: 32, base: 4, seed: 5 }, tf);
    const input = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
    // One training step so batch-norm statistics and Adam's moments are not at their initial values.
    const optimizer = tf.train.adam(1e-2);
    const variables = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
    optimizer.minimize(
      () => tf.mean<tfTypes.Scalar>(model.apply(input, { training: true }) as tfTypes.Tensor),
      false,
      variables,
    );
    await saveModel(tf, model, dir);
    await saveOptimizer(tf, optimizer, dir);
    expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBe(model.countParams() * 4);
    const loaded = await loadModel(tf, dir);
    const a = (model.predict(input) as tfTypes.Tensor).dataSync();
    const b = (loaded.predict(input) as tfTypes.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    const restored = tf.train.adam(1e-2);
    expect(await loadOptimizer(tf, restored, dir)).toBe(true);
    const before = await optimizer.getWeights();
    const after = await restored.getWeights();
    expect(after.length).toBe(before.length);
    for (let i = 0; i < before.length; i++) {
      expect(Array.from(after[i].tensor.dataSync())).toEqual(
        Array.from(before[i].tensor.dataSync()),
      );
    }
    model.dispose();
    loaded.dispose();
    input.dispose();
  });

  it('builds the U-Net for any multiple of 16 and refuses other sizes', () => {
    const model = buildUNet({ size: 48, base: 4 }, tf);
    expect(model.outputs[0].shape).toEqual([null, 48, 48, 1]);
    model.dispose();
    expect(() => buildUNet({ size: 40, base: 4 }, tf)).toThrow(/multiple of 16/);
  });
});

describe('tile-mode crops', () => {
  it('cuts the same seeded window from image and mask, mirror-padding small sides', () => {
    const width = 50;
    const height = 20;
    const image = new Uint8Array(width * height).map((_, i) => (i * 37) % 251);
    const mask = image.map((v) => (v > 120 ? 255 : 0));
    const item = { imageId: 1, image, mask, width, height };
    const a = cropItem(item, 32, new Random(4));
    const b = cropItem(item, 32, new Random(4));
    expect(a.image).toEqual(b.image);
    expect(a.image.length).toBe(32 * 32);
    for (let i = 0; i < a.image.length; i++) expect(a.mask[i]).toBe(a.image[i] > 120 ? 255 : 0);
    // The crop is a window of the image: its first row is a run of some image row.
    const firstRow = Array.from(a.image.subarray(0, 32));
    const found = Array.from({ length: height }, (_, y) =>
      Array.from({ length: width - 31 }, (_, x) =>
        firstRow.every((v, k) => v === image[y * width + x + k]),
      ).some(Boolean),
    ).some(Boolean);
    expect(found).toBe(true);
    const same = { imageId: 2, image: new Uint8Array(32 * 32), mask: new Uint8Array(32 * 32) };
    expect(cropItem(same, 32, new Random(1))).toBe(same);
  });
});
