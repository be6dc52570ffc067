/**
 * The onnxruntime engine against tfjs (cpu backend) on fresh random inputs: the training-step
 * graph's loss and gradients for every loss, the transposed convolution included; the inference
 * graph's probabilities; dropout's mask in both passes; whole Adam steps with the batch norms'
 * moving averages; and optimizer checkpoints that either engine resumes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadRuntime } from '../../src/core/ml/backends';
import { computeLoss, LOSS_NAMES, type LossName } from '../../src/core/ml/losses';
import { loadOptimizer, saveOptimizer } from '../../src/core/ml/model-io';
import { buildUNet } from '../../src/core/ml/unet';
import {
  buildTrainingGraph,
  kernelToOnnx,
  kernelToTfjs,
  unetParams,
} from '../../src/core/ml/onnx/unet-graph';
import { nchwcBlockSize } from '../../src/core/ml/onnx/nchwc';
import {
  loadOnnxRuntime,
  onnxReplicas,
  onnxRunner,
  readWeights,
} from '../../src/core/ml/onnx/runtime';
import { splitBatch } from '../../src/core/ml/onnx/replicas';
import { OnnxTrainer } from '../../src/core/ml/onnx/onnx-trainer';
import type { Ort } from '../../src/core/ml/tf';
import { Random } from '../../src/core/math/random';
import { tempDir } from './project-fixtures';

let ort: Ort;

beforeAll(async () => {
  ort = await loadOnnxRuntime();
  await tf.setBackend('cpu');
}, 60_000);

const SIZE = 32;
const BASE = 4;
const BATCH = 2;

function randomBatch(seed: number, count = BATCH) {
  const random = new Random(seed);
  const pixels = count * SIZE * SIZE;
  const images = new Float32Array(pixels).map(() => random.next());
  // Blobs rather than noise, so Dice has structure to learn and gradients are not all tiny.
  const masks = new Float32Array(pixels).map((_, i) => {
    const x = i % SIZE;
    const y = Math.floor(i / SIZE) % SIZE;
    return (x - 12) ** 2 + (y - 15) ** 2 < 60 + 40 * random.next() ? 1 : 0;
  });
  const weights = new Float32Array(pixels).map(() => 1 + 4 * random.next());
  return { images, masks, weights };
}

/** max |a - b| / max |b|: the relative error used throughout. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return error / Math.max(scale, 1e-12);
}

function trainFeeds(
  graph: ReturnType<typeof buildTrainingGraph>,
  weights: Map<string, Float32Array>,
  batch: ReturnType<typeof randomBatch>,
): Record<string, InstanceType<Ort['Tensor']>> {
  const shape = [BATCH, 1, SIZE, SIZE];
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
    image: new ort.Tensor('float32', batch.images, shape),
    mask: new ort.Tensor('float32', batch.masks, shape),
  };
  if (graph.takesPixelWeights)
    feeds.pixel_weights = new ort.Tensor('float32', batch.weights, shape);
  for (const spec of graph.trainable)
    feeds[spec.key] = new ort.Tensor('float32', weights.get(spec.key)!, spec.onnxShape);
  return feeds;
}

describe('training-step graph', () => {
  it.each([
    ...LOSS_NAMES.map((loss) => [loss, 'direct'] as const),
    // Winograd F(2x2, 3x3) for every 3x3 conv with 4+ channels (all but the first).
    ['bce-dice', 'Winograd'] as const,
    // onnxruntime's blocked kernels for every 3x3 conv whose channels are whole blocks (all but
    // the first), at this CPU's block size: a U-Net of one block's base width.
    ['bce-dice', 'NCHWc'] as const,
  ])(
    'matches tfjs loss and every gradient for %s with %s 3x3 convs (relative error < 1e-4)',
    async (loss: LossName, convs: 'direct' | 'Winograd' | 'NCHWc') => {
      const nchwcBlock = convs === 'NCHWc' ? await nchwcBlockSize(ort) : null;
      if (convs === 'NCHWc' && nchwcBlock === null)
        throw new Error('onnxruntime has no NCHWc kernels for this CPU (x86-64 has them)');
      const base = nchwcBlock ?? BASE;
      const model = buildUNet({ size: SIZE, base, seed: 11 });
      const batch = randomBatch(5);
      const shape: [number, number, number, number] = [BATCH, SIZE, SIZE, 1];
      const x = tf.tensor4d(batch.images, shape);
      const y = tf.tensor4d(batch.masks, shape);
      const w = tf.tensor4d(batch.weights, shape);
      const weights = readWeights(model, unetParams(base));
      const expected = tf.variableGrads(
        () =>
          computeLoss(
            tf,
            loss,
            y,
            model.apply(x, { training: true }) as tf.Tensor,
            loss === 'weighted-bce' ? w : undefined,
          ),
        model.trainableWeights.map((v) => v.read() as tf.Variable),
      );
      const graph = buildTrainingGraph({
        base,
        dropout: 0,
        batch: BATCH,
        size: SIZE,
        loss,
        ...(convs === 'Winograd' ? { winogradMinChannels: 4 } : {}),
        ...(nchwcBlock ? { nchwcBlock } : {}),
      });
      // The graph really asks for the blocked kernels (the op type is a string in the model).
      if (nchwcBlock) expect(Buffer.from(graph.bytes).includes('ReorderInput')).toBe(true);
      const session = await ort.InferenceSession.create(graph.bytes);
      const out = await session.run(trainFeeds(graph, weights, batch));
      await session.release();

      expect(relativeError(out.loss.data as Float32Array, expected.value.dataSync())).toBeLessThan(
        1e-5,
      );
      const byName = model.trainableWeights.map(
        (v) => [v.originalName, (v.read() as tf.Variable).name] as [string, string],
      );
      const grads: Record<string, tf.Tensor> = expected.grads;
      expect(graph.trainable).toHaveLength(byName.length);
      for (const [key, variableName] of byName) {
        const spec = graph.trainable.find((p) => p.key === key)!;
        let gradient = out[`grad:${key}`].data as Float32Array;
        if (spec.kind === 'kernel') gradient = kernelToTfjs(gradient, spec.tfjsShape);
        const error = relativeError(gradient, grads[variableName].dataSync());
        expect(error, `${loss}: gradient of ${key}`).toBeLessThan(1e-4);
      }
      tf.dispose([x, y, w, expected.value, ...Object.values(expected.grads)]);
      model.dispose();
    },
    60_000,
  );

  it('applies the dropout mask forward and backward', async () => {
    const rate = 0.5;
    const graph = buildTrainingGraph({
      base: BASE,
      dropout: rate,
      batch: BATCH,
      size: SIZE,
      loss: 'bce-dice',
    });
    const model = buildUNet({ size: SIZE, base: BASE, seed: 4 });
    const weights = readWeights(model, unetParams(BASE));
    const feeds = trainFeeds(graph, weights, randomBatch(9));
    const maskShape = graph.dropoutMaskShape!;
    const [, channels, h, w] = maskShape;
    // Channel c is dropped everywhere when c is even, kept (scaled by 2) when odd.
    const dropMask = new Float32Array(maskShape.reduce((a, b) => a * b, 1)).map((_, i) =>
      (Math.floor(i / (h * w)) % channels) % 2 === 0 ? 0 : 1 / (1 - rate),
    );
    feeds.dropout_mask = new ort.Tensor('float32', dropMask, maskShape);
    const session = await ort.InferenceSession.create(graph.bytes);
    const out = await session.run(feeds);
    const gamma = out['grad:bottom_bn2/gamma'].data as Float32Array;
    for (let c = 0; c < channels; c++) {
      if (c % 2 === 0) expect(gamma[c], `dropped channel ${c}`).toBe(0);
    }
    expect(Array.from(gamma).some((v, c) => c % 2 === 1 && v !== 0)).toBe(true);

    // A kept channel's gradient agrees with a central difference of the loss.
    const kept = Array.from(gamma).reduce(
      (best, v, c) => (c % 2 === 1 && Math.abs(v) > Math.abs(gamma[best]) ? c : best),
      1,
    );
    const lossAt = async (delta: number) => {
      const shifted = Float32Array.from(weights.get('bottom_bn2/gamma')!);
      shifted[kept] += delta;
      const result = await session.run({
        ...feeds,
        'bottom_bn2/gamma': new ort.Tensor('float32', shifted, [shifted.length]),
      });
      return (result.loss.data as Float32Array)[0];
    };
    const step = 1e-2;
    const numeric = ((await lossAt(step)) - (await lossAt(-step))) / (2 * step);
    expect(Math.abs(numeric - gamma[kept])).toBeLessThan(0.05 * Math.abs(gamma[kept]) + 1e-5);
    await session.release();
    model.dispose();
  }, 60_000);
});

describe('inference graph', () => {
  it('matches tfjs predict with trained batch-norm statistics (relative error < 1e-4)', async () => {
    const model = buildUNet({ size: SIZE, base: BASE, seed: 2 });
    // Non-trivial moving statistics and betas, as after training.
    const random = new Random(3);
    for (const layer of model.layers.filter((l) => l.name.includes('_bn'))) {
      const n = layer.getWeights()[0].shape[0];
      const values = (f: () => number) => tf.tensor1d(Array.from({ length: n }, f));
      layer.setWeights([
        values(() => 0.5 + random.next()),
        values(() => random.next() - 0.5),
        values(() => random.next() - 0.5),
        values(() => 0.5 + random.next()),
      ]);
    }
    const { images } = randomBatch(8);
    const expected = tf.tidy(() =>
      (model.predict(tf.tensor4d(images, [BATCH, SIZE, SIZE, 1])) as tf.Tensor).dataSync(),
    );
    const runner = await onnxRunner(ort, model, SIZE, BATCH);
    const split = [images.slice(0, SIZE * SIZE), images.slice(SIZE * SIZE)];
    const actual = await runner.predict(split);
    await runner.dispose();
    const joined = new Float32Array(expected.length);
    joined.set(actual[0], 0);
    joined.set(actual[1], SIZE * SIZE);
    expect(relativeError(joined, expected)).toBeLessThan(1e-4);
    model.dispose();
  }, 60_000);
});

describe('OnnxTrainer', () => {
  const config = { size: SIZE, loss: 'bce-dice' as const, dropout: 0, learningRate: 1e-3 };

  it('takes the same Adam steps as tfjs, moving averages included', async () => {
    const steps = 3;
    const reference = buildUNet({ size: SIZE, base: BASE, seed: 21 });
    const onnxModel = buildUNet({ size: SIZE, base: BASE, seed: 21 });
    const optimizer = tf.train.adam(config.learningRate);
    const trainer = new OnnxTrainer(ort, tf, onnxModel, config);
    for (let step = 0; step < steps; step++) {
      const batch = randomBatch(100 + step);
      const shape: [number, number, number, number] = [BATCH, SIZE, SIZE, 1];
      const x = tf.tensor4d(batch.images, shape);
      const y = tf.tensor4d(batch.masks, shape);
      const expectedLoss = optimizer.minimize(
        () => computeLoss(tf, config.loss, y, reference.apply(x, { training: true }) as tf.Tensor),
        true,
      )!;
      const loss = await trainer.step({
        images: batch.images,
        masks: batch.masks,
        pixelWeights: null,
        count: BATCH,
        seed: step,
      });
      expect(Math.abs(loss - expectedLoss.dataSync()[0])).toBeLessThan(1e-4);
      tf.dispose([x, y, expectedLoss]);
    }
    trainer.commit();
    // Adam moves a weight by about the learning rate per step whatever its gradient's size, so
    // a gradient within rounding of zero may step either way: bound every weight by that, and
    // require nearly all of them to agree closely.
    const expected = reference.getWeights().map((t) => t.dataSync());
    const actual = onnxModel.getWeights().map((t) => t.dataSync());
    let close = 0;
    let total = 0;
    for (const [index, values] of expected.entries()) {
      for (let i = 0; i < values.length; i++) {
        const difference = Math.abs(actual[index][i] - values[i]);
        expect(difference).toBeLessThan(2 * steps * config.learningRate);
        if (difference < 1e-5 + 1e-4 * Math.abs(values[i])) close++;
        total++;
      }
    }
    expect(close / total).toBeGreaterThan(0.999);
    const names = reference.weights.map((w) => w.originalName);
    const movingMean = names.indexOf('down1_bn2/moving_mean');
    expect(relativeError(actual[movingMean], expected[movingMean])).toBeLessThan(1e-4);
    const movingVariance = names.indexOf('bottom_bn1/moving_variance');
    expect(relativeError(actual[movingVariance], expected[movingVariance])).toBeLessThan(1e-4);
    await trainer.dispose();
    optimizer.dispose();
    reference.dispose();
    onnxModel.dispose();
  }, 120_000);

  it('splits batches into parts of 2+ images, only when QATASEG_REPLICAS asks', () => {
    expect(splitBatch(4, 2)).toEqual([2, 2]);
    expect(splitBatch(5, 2)).toEqual([3, 2]);
    expect(splitBatch(3, 2)).toEqual([3]);
    expect(splitBatch(1, 2)).toEqual([1]);
    expect(splitBatch(8, 3)).toEqual([3, 3, 2]);
    try {
      // Even with 2 threads the default is one session.
      vi.stubEnv('QATASEG_THREADS', '2');
      vi.stubEnv('QATASEG_REPLICAS', undefined);
      expect(onnxReplicas()).toBe(1);
      vi.stubEnv('QATASEG_REPLICAS', '2');
      expect(onnxReplicas()).toBe(2);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('splits a batch across 2 replica threads: Adam steps as tfjs takes them on the parts', async () => {
    // Batch 5 splits as 3 + 2: each part normalises with its own statistics and has its own
    // Dice, and the batch's loss and gradients are the parts' weighted by their share of it.
    const count = 5;
    const sizes = [3, 2];
    const steps = 3;
    const reference = buildUNet({ size: SIZE, base: BASE, seed: 23 });
    const onnxModel = buildUNet({ size: SIZE, base: BASE, seed: 23 });
    const optimizer = tf.train.adam(config.learningRate);
    const trainer = new OnnxTrainer(ort, tf, onnxModel, { ...config, replicas: 2 });
    for (let step = 0; step < steps; step++) {
      const batch = randomBatch(200 + step, count);
      const x = tf.tensor4d(batch.images, [count, SIZE, SIZE, 1]);
      const y = tf.tensor4d(batch.masks, [count, SIZE, SIZE, 1]);
      const expectedLoss = optimizer.minimize(() => {
        let from = 0;
        const terms = sizes.map((size) => {
          const part = (t: tf.Tensor4D) => t.slice([from, 0, 0, 0], [size, SIZE, SIZE, 1]);
          const term = computeLoss(
            tf,
            config.loss,
            part(y),
            reference.apply(part(x), { training: true }) as tf.Tensor,
          ).mul(size / count);
          from += size;
          return term;
        });
        return tf.addN(terms) as tf.Scalar;
      }, true)!;
      const loss = await trainer.step({
        images: batch.images,
        masks: batch.masks,
        pixelWeights: null,
        count,
        seed: step,
      });
      expect(trainer.replicaFallback).toBeNull();
      expect(Math.abs(loss - expectedLoss.dataSync()[0])).toBeLessThan(1e-4);
      tf.dispose([x, y, expectedLoss]);
    }
    trainer.commit();
    const expected = reference.getWeights().map((t) => t.dataSync());
    const actual = onnxModel.getWeights().map((t) => t.dataSync());
    const names = reference.weights.map((w) => w.originalName);
    let close = 0;
    let total = 0;
    for (const [index, values] of expected.entries()) {
      // tfjs updates the moving averages once per part; the replicas' are checked below.
      if (/moving_(mean|variance)$/.test(names[index])) continue;
      for (let i = 0; i < values.length; i++) {
        const difference = Math.abs(actual[index][i] - values[i]);
        expect(difference).toBeLessThan(2 * steps * config.learningRate);
        if (difference < 1e-5 + 1e-4 * Math.abs(values[i])) close++;
        total++;
      }
    }
    expect(close / total).toBeGreaterThan(0.999);
    await trainer.dispose();
    optimizer.dispose();
    reference.dispose();
    onnxModel.dispose();
  }, 120_000);

  it("moves the averages by the whole batch's statistics when the batch is split", async () => {
    // The first batch norm sees the same input whether the batch is split or not, so the parts'
    // means and variances combined must be the whole batch's.
    const count = 4;
    const batch = randomBatch(300, count);
    // The second half brighter, so the parts' means differ and the combined variance must count it.
    for (let i = (count / 2) * SIZE * SIZE; i < batch.images.length; i++) batch.images[i] += 1;
    const trained = await Promise.all(
      [1, 2].map(async (replicas) => {
        const model = buildUNet({ size: SIZE, base: BASE, seed: 29 });
        const trainer = new OnnxTrainer(ort, tf, model, { ...config, replicas });
        await trainer.step({ ...batch, pixelWeights: null, count, seed: 1 });
        expect(trainer.replicaFallback).toBeNull();
        trainer.commit();
        await trainer.dispose();
        const names = model.weights.map((w) => w.originalName);
        const values = model.getWeights().map((t) => Float32Array.from(t.dataSync()));
        model.dispose();
        return (name: string) => values[names.indexOf(name)];
      }),
    );
    const [whole, split] = trained;
    for (const name of ['down0_bn1/moving_mean', 'down0_bn1/moving_variance'])
      expect(relativeError(split(name), whole(name)), name).toBeLessThan(1e-5);
    // A later layer's input differs (each part was normalised by its own statistics).
    expect(
      relativeError(split('bottom_bn1/moving_mean'), whole('bottom_bn1/moving_mean')),
    ).toBeGreaterThan(1e-5);
  }, 120_000);

  it("saves Adam's state in tfjs's format, so either engine resumes the other's checkpoint", async () => {
    const dir = tempDir('onnx-optimizer');
    const model = buildUNet({ size: SIZE, base: BASE, seed: 5 });
    const trainer = new OnnxTrainer(ort, tf, model, config);
    const batch = randomBatch(1);
    for (let step = 0; step < 2; step++) {
      await trainer.step({ ...batch, pixelWeights: null, count: BATCH, seed: step });
    }
    const onnxDir = path.join(dir, 'onnx');
    await trainer.saveOptimizer(onnxDir);
    expect(fs.existsSync(path.join(onnxDir, 'optimizer.json'))).toBe(true);

    // tfjs's Adam reads it: same iteration count, moments in tfjs layout.
    const optimizer = tf.train.adam(config.learningRate);
    expect(await loadOptimizer(tf, optimizer, onnxDir)).toBe(true);
    const tfjsWeights = await optimizer.getWeights();
    expect(tfjsWeights[0].name).toBe('iter');
    expect(tfjsWeights[0].tensor.dataSync()[0]).toBe(2);
    const count = model.trainableWeights.length;
    expect(tfjsWeights).toHaveLength(2 * count + 1);
    const kernelIndex = model.trainableWeights.findIndex(
      (w) => w.originalName === 'down1_conv2/kernel',
    );
    const kernelMoment = tfjsWeights[1 + kernelIndex].tensor;
    expect(kernelMoment.shape).toEqual([3, 3, 2 * BASE, 2 * BASE]);

    // Saved back by tfjs and read by a fresh trainer: the moments survive both trips.
    const tfjsDir = path.join(dir, 'tfjs');
    await saveOptimizer(tf, optimizer, tfjsDir);
    const resumed = new OnnxTrainer(ort, tf, model, config);
    expect(await resumed.loadOptimizer(tfjsDir)).toBe(true);
    const againDir = path.join(dir, 'again');
    await resumed.saveOptimizer(againDir);
    const again = new Map(
      (
        await (async () => {
          const reader = tf.train.adam(config.learningRate);
          await loadOptimizer(tf, reader, againDir);
          return reader.getWeights();
        })()
      ).map((w, index) => [index, w.tensor.dataSync()]),
    );
    tfjsWeights.forEach((w, index) => {
      expect(relativeError(again.get(index)!, w.tensor.dataSync())).toBe(0);
    });
    const spec = unetParams(BASE).find((p) => p.key === 'down1_conv2/kernel')!;
    expect(
      kernelToTfjs(
        kernelToOnnx(kernelMoment.dataSync() as Float32Array, spec.tfjsShape),
        spec.tfjsShape,
      ),
    ).toEqual(kernelMoment.dataSync());
    await trainer.dispose();
    await resumed.dispose();
    optimizer.dispose();
    model.dispose();
  }, 60_000);
});

describe('the ladder', () => {
  it('loads onnxruntime when forced, with tfjs on cpu keeping the model', async () => {
    const runtime = await loadRuntime('onnxruntime');
    expect(runtime.backend).toBe('onnxruntime');
    expect(runtime.ort).not.toBeNull();
    expect(runtime.tf.getBackend()).toBe('cpu');
    expect(runtime.ladder.map((step) => step.backend)).toEqual([
      'tensorflow-gpu',
      'onnxruntime-cuda',
      'onnxruntime-directml',
      'onnxruntime-coreml',
      'tensorflow',
      'onnxruntime',
      'wasm',
      'cpu',
    ]);
    const step = runtime.ladder.find((entry) => entry.backend === 'onnxruntime');
    expect(step?.status).toBe('loaded');
    expect(step?.reason).toMatch(
      /^forced \(onnxruntime \d+\.\d+\.\d+, CPU provider, \d+ threads\)$/,
    );
  }, 60_000);

  it('prefers onnxruntime to wasm on auto where libtensorflow is absent', async () => {
    const runtime = await loadRuntime('auto');
    const tensorflowLoaded = runtime.ladder
      .filter((step) => step.backend.startsWith('tensorflow'))
      .some((step) => step.status === 'loaded');
    if (!tensorflowLoaded) expect(runtime.backend).toBe('onnxruntime');
    for (const step of runtime.ladder) expect(step.reason.length).toBeGreaterThan(0);
  }, 60_000);
});
