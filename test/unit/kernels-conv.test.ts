/**
 * The project's wasm training kernels against the cpu backend on fresh random inputs: every
 * geometry the U-Net uses (3x3 stride 1 'same', 1x1, 2x2 stride 2 transposed, batch >= 1) plus a
 * few others, and gradients through a small conv net with batch norm (tf.grads on wasm vs cpu).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../../src/core/ml/backends';
import type { Tf } from '../../src/core/ml/tf';
import { registerWasmTrainingKernels } from '../../src/core/ml/kernels';

let tf: Tf;
const TOLERANCE = 1e-4;

beforeAll(async () => {
  tf = (await loadRuntime('wasm')).tf;
  // loadRuntime registers them; calling again must be harmless.
  registerWasmTrainingKernels();
}, 60_000);

function randomData(shape: number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.random() * 2 - 1;
  return data;
}

/** Runs `compute` on one backend with tensors made there from plain arrays; returns plain arrays. */
async function onBackend(
  backend: 'wasm' | 'cpu',
  inputs: { data: Float32Array; shape: number[] }[],
  compute: (...tensors: tfTypes.Tensor[]) => tfTypes.Tensor | tfTypes.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const results = tf.tidy(() => {
    const tensors = inputs.map((input) => tf.tensor(input.data, input.shape));
    const out = compute(...tensors);
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
  expect(tf.memory().numTensors).toBe(before);
  return results;
}

/** Largest absolute difference relative to the largest reference magnitude. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

async function compareBackends(
  shapes: number[][],
  compute: (...tensors: tfTypes.Tensor[]) => tfTypes.Tensor | tfTypes.Tensor[],
): Promise<number> {
  const inputs = shapes.map((shape) => ({ data: randomData(shape), shape }));
  const expected = await onBackend('cpu', inputs, compute);
  const actual = await onBackend('wasm', inputs, compute);
  let worst = 0;
  expected.forEach((e, i) => {
    expect(Number.isFinite(e[0])).toBe(true);
    worst = Math.max(worst, relativeError(actual[i], e));
  });
  await tf.setBackend('wasm');
  return worst;
}

type Pad = 'same' | 'valid';
interface FilterCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: Pad;
}

const FILTER_CASES: FilterCase[] = [
  { name: '3x3 stride 1 same', x: [2, 9, 11, 5], filter: [3, 3, 5, 7], strides: 1, pad: 'same' },
  {
    name: '3x3 stride 1 same, batch 1',
    x: [1, 8, 8, 3],
    filter: [3, 3, 3, 4],
    strides: 1,
    pad: 'same',
  },
  { name: '1x1', x: [2, 6, 7, 8], filter: [1, 1, 8, 3], strides: 1, pad: 'same' },
  { name: '3x3 stride 1 valid', x: [2, 7, 6, 4], filter: [3, 3, 4, 5], strides: 1, pad: 'valid' },
  { name: '2x2 stride 2', x: [3, 8, 10, 6], filter: [2, 2, 6, 4], strides: 2, pad: 'same' },
  {
    name: '3x3 stride 2 same, odd size',
    x: [2, 7, 9, 3],
    filter: [3, 3, 3, 5],
    strides: 2,
    pad: 'same',
  },
];

/** Output shape of the forward conv, i.e. the shape of dy. */
function convOutShape(c: FilterCase): number[] {
  const [n, h, w] = c.x;
  const out = (size: number, k: number) =>
    c.pad === 'same' ? Math.ceil(size / c.strides) : Math.floor((size - k) / c.strides) + 1;
  return [n, out(h, c.filter[0]), out(w, c.filter[1]), c.filter[3]];
}

describe('wasm Conv2DBackpropFilter vs cpu', () => {
  for (const c of FILTER_CASES) {
    it(c.name, async () => {
      const error = await compareBackends([c.x, convOutShape(c)], (x, dy) =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
          ),
      );
      expect(error).toBeLessThan(TOLERANCE);
    });
  }
});

describe('wasm Conv2DBackpropInput vs cpu', () => {
  for (const c of FILTER_CASES) {
    it(c.name, async () => {
      const error = await compareBackends([convOutShape(c), c.filter], (dy, filter) =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy, filter },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
          ),
      );
      expect(error).toBeLessThan(TOLERANCE);
    });
  }

  it('2x2 stride 2 transposed conv (the U-Net up-sampling), batch 2', async () => {
    const error = await compareBackends(
      [
        [2, 5, 6, 8],
        [2, 2, 4, 8],
      ],
      (x, filter) =>
        tf.conv2dTranspose(
          x as tfTypes.Tensor4D,
          filter as tfTypes.Tensor4D,
          [2, 10, 12, 4],
          2,
          'same',
        ),
    );
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('gradients through a small conv net, wasm vs cpu', () => {
  it('matches tf.grads of conv, batch norm, pool, transposed conv, concat and 1x1 head', async () => {
    const shapes = [
      [2, 8, 8, 2], // x
      [3, 3, 2, 4], // conv 3x3
      [4], // gamma
      [4], // beta
      [2, 2, 3, 4], // transposed conv 2x2/2: [fh, fw, out, in]
      [1, 1, 7, 1], // head 1x1 over the skip concatenation
      [2, 8, 8, 1], // target
    ];
    const error = await compareBackends(shapes, (x, w1, gamma, beta, wt, wh, target) => {
      const loss = (
        xx: tfTypes.Tensor,
        a: tfTypes.Tensor,
        g: tfTypes.Tensor,
        b: tfTypes.Tensor,
        t: tfTypes.Tensor,
        h: tfTypes.Tensor,
      ) => {
        const conv = tf.conv2d(xx as tfTypes.Tensor4D, a as tfTypes.Tensor4D, 1, 'same');
        const { mean, variance } = tf.moments(conv, [0, 1, 2]);
        const normed = tf.relu(tf.batchNorm(conv, mean, variance, b, g, 1e-3));
        const pooled = tf.maxPool(normed as tfTypes.Tensor4D, 2, 2, 'valid');
        const up = tf.conv2dTranspose(pooled, t as tfTypes.Tensor4D, [2, 8, 8, 3], 2, 'same');
        const skip = tf.concat([tf.relu(up), normed], 3);
        const head = tf.sigmoid(
          tf.conv2d(skip as tfTypes.Tensor4D, h as tfTypes.Tensor4D, 1, 'same'),
        );
        return tf.mean(tf.square(tf.sub(head, target)));
      };
      return tf.grads(loss)([x, w1, gamma, beta, wt, wh]);
    });
    expect(error).toBeLessThan(TOLERANCE);
  });
});

describe('wasm Slice and SplitV vs cpu', () => {
  it('slices short inner rows (a channel range of NHWC) at ranks 2 to 4', async () => {
    const error = await compareBackends(
      [
        [2, 5, 6, 10],
        [7, 9],
        [3, 4, 12],
      ],
      (a, b, c) => [
        tf.slice(a, [0, 1, 0, 3], [2, 3, 6, 4]),
        tf.slice(a, [1, 0, 2, 0], [1, -1, 3, 7]),
        tf.slice(b, [2, 1], [4, 5]),
        tf.slice(c, [1, 1, 2], [2, 3, 9]),
      ],
    );
    expect(error).toBe(0);
  });

  it('splits along the channel axis, as the gradient of a skip concatenation does', async () => {
    const error = await compareBackends([[2, 4, 5, 7]], (a) => tf.split(a, [3, 4], 3));
    expect(error).toBe(0);
  });
});

describe('wasm per-channel Sum and Mean vs cpu', () => {
  it('reduces all axes but the last, with and without keepDims', async () => {
    const error = await compareBackends(
      [
        [4, 32, 32, 5],
        [2048, 3],
      ],
      (a, b) => [
        tf.sum(a, [0, 1, 2]),
        tf.mean(a, [0, 1, 2], true),
        tf.sum(b, 0),
        tf.mean(b, [0]),
        tf.sum(a, [1, 2]), // not per channel: the stock kernel
      ],
    );
    expect(error).toBeLessThan(TOLERANCE);
  });
});
