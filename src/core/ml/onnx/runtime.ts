/**
 * onnxruntime-node as the native CPU engine of the ladder: its library ships inside the npm
 * package (no download), so it runs where libtensorflow cannot be fetched. The tfjs model stays
 * the model of record (built, loaded and saved by tfjs on its cpu backend); this module moves its
 * weights into ONNX graphs, runs them, and moves trained weights back.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import type * as OrtModule from 'onnxruntime-node';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Ort, Tf } from '../tf';
import { predictInBatches, type ModelRunner } from '../runner';
import { GraphBuilder } from './graph';
import { deriveSeed, Random } from '../../math/random';
import { UNET_DEPTH } from '../architecture';
import {
  buildInferenceGraph,
  kernelToOnnx,
  kernelToTfjs,
  unetParams,
  type ParamSpec,
} from './unet-graph';

const require = createRequire(import.meta.url);

/** Threads for onnxruntime's kernels: QATASEG_THREADS, else every core. */
export function onnxThreads(): number {
  const fromEnv = Number(process.env.QATASEG_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
}

/**
 * QATASEG_DETERMINISTIC=1 (set by the unit tests) asks onnxruntime for its deterministic kernels,
 * so a seeded training gives the same weights every run; with QATASEG_THREADS=1 no reduction is
 * split across threads either. Off by default: it may cost speed and users want the fast path.
 */
export function deterministicCompute(): boolean {
  return process.env.QATASEG_DETERMINISTIC === '1';
}

/** Session configuration entries (onnxruntime's dotted keys, as nested objects) every session shares. */
export function sharedSessionConfig(): Record<string, Record<string, string>> {
  return deterministicCompute() ? { session: { use_deterministic_compute: '1' } } : {};
}

/**
 * QATASEG_ONNX_PROFILE=<prefix> (bench/profile.ts) makes every session write onnxruntime's
 * per-kernel profile, `<prefix>_<date>.json`, when it is released.
 */
export function onnxProfilePrefix(): string | null {
  return process.env.QATASEG_ONNX_PROFILE || null;
}

/**
 * Whether onnxruntime's intra-op threads spin while they wait for work (its default). Spinning
 * buys a little latency at each node's barrier on an idle machine, but when other processes want
 * the cores the spinning threads burn the time slices the working ones need: with 2 threads at a
 * load average of 12-15 on 2 cores a training step took 1.13x less wall time and 1.23x less CPU
 * with spinning off (bench/step-ab.ts, bench/README.md). So: off when the 1-minute load average
 * says someone else is using a core (load >= cores + 1, our own threads counted as at most the
 * cores), on otherwise; QATASEG_ONNX_SPIN=0|1 decides instead.
 */
export function intraOpSpinning(): boolean {
  const fromEnv = process.env.QATASEG_ONNX_SPIN;
  if (fromEnv === '0' || fromEnv === '1') return fromEnv === '1';
  return os.loadavg()[0] < os.availableParallelism() + 1;
}

/** The execution provider of every session in this process: 'cpu', or the GPU rung admitted. */
let executionProvider = 'cpu';

/**
 * Replicas a training step is split across (./replicas.ts): QATASEG_REPLICAS, else 1 (one
 * session). Opt-in: faster at 256 px on 2 cores, but each part's own batch norm cost the phantom
 * proof at 256 px 0.012 test Dice at the median (bench/README.md, "Fifth round" and "Sixth
 * round"). One on a GPU provider, whose session is already parallel.
 */
export function onnxReplicas(): number {
  if (executionProvider !== 'cpu') return 1;
  const fromEnv = Number(process.env.QATASEG_REPLICAS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1;
}

/** The provider sessions use now. */
export function currentExecutionProvider(): string {
  return executionProvider;
}

/** Called by the ladder once a GPU provider has passed its self-check (./providers.ts). */
export function useExecutionProvider(provider: string): void {
  executionProvider = provider;
}

/** Loads onnxruntime-node and proves its native library runs a graph. */
export async function loadOnnxRuntime(): Promise<Ort> {
  const ort = require('onnxruntime-node') as Ort;
  // The smallest real graph: a 1x1 convolution, which exercises the CPU provider.
  const g = new GraphBuilder('probe');
  const x = g.input('x', 'float', [1, 1, 1, 1]);
  g.outputAs(g.op('Conv', [x, g.constant([2], 'float', [1, 1, 1, 1])]), 'y');
  const session = await ort.InferenceSession.create(g.toBytes());
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(3), [1, 1, 1, 1]) });
  await session.release();
  if ((out.y.data as Float32Array)[0] !== 6) throw new Error('onnxruntime computed a wrong probe');
  return ort;
}

/**
 * Inference keeps every optimisation: its weights are constants, which onnxruntime repacks into
 * its blocked (NCHWc) convolutions. The training step's weights are inputs, so the only
 * convolution the NCHWc pass can take there is the constant one-hot im2col of the filter
 * gradients, and converting its 9-channel output back from the blocked layout cost more than the
 * convolution itself (18% of a step): that pass is off for training.
 */
export function sessionOptions(
  purpose: 'inference' | 'training',
  threads = onnxThreads(),
  /** Extra session configuration entries (bench/step-ab.ts tries some). */
  config: Record<string, Record<string, string>> = {},
): OrtModule.InferenceSession.SessionOptions {
  const profilePrefix = onnxProfilePrefix();
  return {
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    executionProviders: [executionProvider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: {
      ...config,
      session: {
        ...sharedSessionConfig().session,
        ...(threads > 1 && !intraOpSpinning() ? { 'intra_op.allow_spinning': '0' } : {}),
        ...config.session,
      },
      ...(purpose === 'training'
        ? { optimization: { disable_specified_optimizers: 'NchwcTransformer' } }
        : {}),
    },
  };
}

/** The U-Net's base width, read from the first convolution's kernel. */
export function modelBase(model: tfTypes.LayersModel): number {
  const [, , , base] = model.getLayer('down0_conv1').getWeights()[0].shape;
  if (base === undefined) throw new Error('the model is not a U-Net of this project');
  return base;
}

/** Every weight of the tfjs model in ONNX layout, keyed `${layer}/${weight}`. */
export function readWeights(
  model: tfTypes.LayersModel,
  params: ParamSpec[],
): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  for (const spec of params) {
    const tensor = model.getLayer(spec.layer).getWeights()[spec.index];
    const data = Float32Array.from(tensor.dataSync() as Float32Array);
    weights.set(spec.key, spec.kind === 'kernel' ? kernelToOnnx(data, spec.tfjsShape) : data);
  }
  return weights;
}

/** Writes ONNX-layout weights back into the tfjs model, layer by layer. */
export function writeWeights(
  tf: Tf,
  model: tfTypes.LayersModel,
  params: ParamSpec[],
  weights: Map<string, Float32Array>,
): void {
  const byLayer = new Map<string, ParamSpec[]>();
  for (const spec of params) byLayer.set(spec.layer, [...(byLayer.get(spec.layer) ?? []), spec]);
  for (const [layerName, specs] of byLayer) {
    const layer = model.getLayer(layerName);
    const tensors = specs
      .sort((a, b) => a.index - b.index)
      .map((spec) => {
        const data = weights.get(spec.key);
        if (!data) throw new Error(`missing weight ${spec.key}`);
        return tf.tensor(
          spec.kind === 'kernel' ? kernelToTfjs(data, spec.tfjsShape) : data,
          spec.tfjsShape,
        );
      });
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/** An inference session of the model's current weights. */
export async function onnxRunner(
  ort: Ort,
  model: tfTypes.LayersModel,
  size: number,
  batch = 8,
): Promise<ModelRunner> {
  const base = modelBase(model);
  return weightsRunner(ort, base, readWeights(model, unetParams(base)), size, batch);
}

/** An inference session of ONNX-layout weights (copied into the graph: later updates don't leak in). */
export async function weightsRunner(
  ort: Ort,
  base: number,
  weights: Map<string, Float32Array>,
  size: number,
  batch: number,
): Promise<ModelRunner> {
  const bytes = buildInferenceGraph({ base, dropout: 0 }, weights);
  const session = await ort.InferenceSession.create(bytes, sessionOptions('inference'));
  return {
    predict: (images) =>
      predictInBatches(images, size, batch, async (input, count) => {
        const result = await session.run({
          image: new ort.Tensor('float32', input, [count, 1, size, size]),
        });
        return result.probabilities.data as Float32Array;
      }),
    dispose: () => session.release(),
  };
}

/**
 * Monte Carlo dropout: an inference session of the model's weights with a dropout mask after the
 * bottom block (the training graph's place), a fresh mask of `rate` drawn for each image of each
 * call from `seed` and a counter, so a run is reproducible. Works on any U-Net; one trained with
 * dropout at that rate is what it is meant for.
 */
export async function onnxDropoutRunner(
  ort: Ort,
  model: tfTypes.LayersModel,
  size: number,
  rate: number,
  seed: number,
  batch = 8,
): Promise<ModelRunner> {
  if (!(rate > 0 && rate < 1)) throw new Error(`dropout rate must be in (0, 1), got ${rate}`);
  const base = modelBase(model);
  const bytes = buildInferenceGraph(
    { base, dropout: rate },
    readWeights(model, unetParams(base)),
    undefined,
    {
      dropoutMask: true,
    },
  );
  const session = await ort.InferenceSession.create(bytes, sessionOptions('inference'));
  const bottom = 2 ** UNET_DEPTH;
  const maskShape = (count: number) => [count, base * bottom, size / bottom, size / bottom];
  const random = new Random(seed);
  const keep = 1 - rate;
  return {
    predict: (images) =>
      predictInBatches(images, size, batch, async (input, count) => {
        const shape = maskShape(count);
        const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
        for (let i = 0; i < mask.length; i++) mask[i] = random.next() < keep ? 1 / keep : 0;
        const result = await session.run({
          image: new ort.Tensor('float32', input, [count, 1, size, size]),
          dropout_mask: new ort.Tensor('float32', mask, shape),
        });
        return result.probabilities.data as Float32Array;
      }),
    dispose: () => session.release(),
  };
}

/** The seed of a step's dropout mask. */
export function dropoutSeed(seed: number, epoch: number, step: number): number {
  return deriveSeed(seed, epoch, step, 0xd0);
}
