/**
 * onnxruntime's blocked (NCHWc) convolutions in the training graph. Inference gets them from
 * onnxruntime's NchwcTransformer, which needs constant weights; the training step's weights are
 * inputs, so the graph asks for the kernels itself (the `com.microsoft.nchwc` contrib domain of
 * the CPU provider) and reorders each filter in the graph: a few KB per step against the blocked
 * kernels' 1.1-1.4x over the NCHW Conv (bench/README.md, issue 24).
 */
import { Random } from '../../math/random';
import type { Ort } from '../tf';
import { GraphBuilder } from './graph';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/**
 * A 3x3 'same' convolution of the NCHW tensor `x` by the OIHW filter `w` through the blocked
 * kernels: the input reordered to NCHWc, the filter to OIHWBiBo (per block of outputs and of
 * inputs, the 3x3 taps, then the input lane, then the output lane), the output back to NCHW.
 * Both channel counts must be multiples of `block`, MLAS's block size on this CPU.
 */
export function nchwcConv3x3(
  g: GraphBuilder,
  x: string,
  w: string,
  shape: { cin: number; cout: number; block: number },
): string {
  const { cin, cout, block } = shape;
  const blockedFilter = g.op('Reshape', [
    g.op(
      'Transpose',
      [g.op('Reshape', [w, g.ints([cout / block, block, cin / block, block, 3, 3])])],
      {
        perm: [0, 2, 4, 5, 3, 1],
      },
    ),
    g.ints([cout, cin, 3, 3]),
  ]);
  const blockedInput = g.op('ReorderInput', [x], {}, NCHWC_DOMAIN);
  const blockedOutput = g.op(
    'Conv',
    [blockedInput, blockedFilter],
    { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
    NCHWC_DOMAIN,
  );
  return g.op('ReorderOutput', [blockedOutput], { channels: cout }, NCHWC_DOMAIN);
}

/**
 * Layers smaller than this (px) keep the NCHW Conv: there the two reorders around a blocked conv
 * cost about what it wins. `bench/step-ab.ts --variants main,nchwc16s32,nchwc16s64,nchwc16s128`
 * (base 16, 256 px, batch 4, load 4-6, CPU per step): 1 thread 1.15 / 1.13 / 1.04x, 2 threads
 * 1.17 / 1.24 / 1.15x; at 64 px (the tests' size) from 32 px 1.07x, every layer 0.98x.
 */
export const NCHWC_MIN_SIZE = 32;

/** The block sizes MLAS uses: 16 floats with AVX-512, 8 with AVX2. */
const CANDIDATE_BLOCKS = [16, 8];

let probed: Promise<number | null> | null = null;

/**
 * MLAS's NCHWc block size on this CPU, found by running one small blocked convolution per
 * candidate against the NCHW Conv (onnxruntime does not expose it, and a filter reordered for the
 * wrong block gives wrong sums, not an error); null where neither matches (no NCHWc kernels, e.g.
 * ARM) or `QATASEG_NCHWC=0`. Probed once per process.
 */
export function nchwcBlockSize(ort: Ort): Promise<number | null> {
  if (process.env.QATASEG_NCHWC === '0') return Promise.resolve(null);
  probed ??= probeBlockSize(ort).catch(() => null);
  return probed;
}

async function probeBlockSize(ort: Ort): Promise<number | null> {
  const channels = 16;
  const size = 6;
  const random = new Random(1);
  const x = new Float32Array(channels * size * size).map(() => random.next() - 0.5);
  const w = new Float32Array(channels * channels * 9).map(() => random.next() - 0.5);
  const feeds = {
    x: new ort.Tensor('float32', x, [1, channels, size, size]),
    w: new ort.Tensor('float32', w, [channels, channels, 3, 3]),
  };
  const run = async (block: number | null) => {
    const g = new GraphBuilder('nchwc_probe');
    const input = g.input('x', 'float', [1, channels, size, size]);
    const filters = g.input('w', 'float', [channels, channels, 3, 3]);
    const y =
      block === null
        ? g.op('Conv', [input, filters], { pads: [1, 1, 1, 1] })
        : nchwcConv3x3(g, input, filters, { cin: channels, cout: channels, block });
    g.outputAs(y, 'y', 'float', [1, channels, size, size]);
    const session = await ort.InferenceSession.create(g.toBytes(), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
    });
    try {
      return (await session.run(feeds)).y.data as Float32Array;
    } finally {
      await session.release();
    }
  };
  const expected = await run(null);
  for (const block of CANDIDATE_BLOCKS) {
    const actual = await run(block).catch(() => null);
    if (actual && actual.every((value, i) => Math.abs(value - expected[i]) < 1e-4)) return block;
  }
  return null;
}
