/**
 * One measured configuration of the project's runtime (a child of bench/run.ts, so each gets its
 * own process, memory and peak RSS): U-Net training and inference images/s plus the float32
 * matmul peak of the same engine. Prints one line `RESULT {json}`. On onnxruntime it times the
 * product's own OnnxTrainer step (graph + Adam + moving averages) and inference runner.
 *   tsx bench/engine-unet.ts [--backend onnxruntime|wasm|cpu] [--threads 1] [--base 16]
 *     [--size 256] [--train-batch 4] [--infer-batch 8] [--warmup 2] [--steps 5]
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../src/core/ml/backends';
import { threadedWasmFailure, wasmThreadCount } from '../src/core/ml/kernels';
import { GraphBuilder } from '../src/core/ml/onnx/graph';
import { onnxRunner } from '../src/core/ml/onnx/runtime';
import { OnnxTrainer } from '../src/core/ml/onnx/onnx-trainer';
import { Random } from '../src/core/math/random';
import { buildUNet } from '../src/core/ml/unet';
import type { BackendName } from '../src/shared/contract';
import { bceDiceLoss } from './train-step';
import { option } from './options';

const backendName = option('backend', 'wasm') as BackendName;
const threads = Number(option('threads', '1'));
const base = Number(option('base', '16'));
const size = Number(option('size', '256'));
const trainBatch = Number(option('train-batch', '4'));
const inferBatch = Number(option('infer-batch', '8'));
const warmup = Number(option('warmup', '2'));
const steps = Number(option('steps', '5'));

if (backendName === 'wasm') process.env.QATASEG_WASM_THREADS = String(threads);
if (backendName === 'onnxruntime') process.env.QATASEG_THREADS = String(threads);
const runtime = await loadRuntime(backendName);
const { tf, ort } = runtime;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

let lastCpuSeconds = 0;
/**
 * Times `run` (which must block until its result is read) `count` times after `warm` runs; also
 * keeps the process CPU seconds per run (all threads) in lastCpuSeconds: on a busy machine the
 * wall time says more about the neighbours than about us.
 */
async function timeRuns(warm: number, count: number, run: () => unknown): Promise<number[]> {
  for (let i = 0; i < warm; i++) await run();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run();
    times.push((performance.now() - start) / 1000);
  }
  const cpu = process.cpuUsage(cpuStart);
  lastCpuSeconds = (cpu.user + cpu.system) / 1e6 / count;
  return times;
}

const n = 1024;

async function matmulPeak(): Promise<number> {
  if (ort) {
    const g = new GraphBuilder('matmul');
    g.outputAs(g.op('MatMul', [g.input('a', 'float', [n, n]), g.input('b', 'float', [n, n])]), 'c');
    const session = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: threads });
    const random = new Random(1);
    const feed = () =>
      new ort.Tensor(
        'float32',
        new Float32Array(n * n).map(() => random.next()),
        [n, n],
      );
    const feeds = { a: feed(), b: feed() };
    const times = await timeRuns(2, 10, () => session.run(feeds));
    await session.release();
    return (2 * n ** 3) / Math.min(...times) / 1e9;
  }
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const times = await timeRuns(2, 10, () => tf.tidy(() => tf.matMul(a, b).dataSync()));
  tf.dispose([a, b]);
  return (2 * n ** 3) / Math.min(...times) / 1e9;
}

const peak = { gflops: await matmulPeak(), n };

const model = buildUNet({ size, base }, tf);
const random = new Random(7);
const images = new Float32Array(trainBatch * size * size).map(() => random.next());
const masks = new Float32Array(trainBatch * size * size).map(() => (random.next() > 0.5 ? 1 : 0));
let trainTimes: number[];
if (ort) {
  const trainer = new OnnxTrainer(ort, tf, model, {
    size,
    loss: 'bce-dice',
    dropout: 0,
    learningRate: 1e-3,
  });
  trainTimes = await timeRuns(warmup, steps, () =>
    trainer.step({ images, masks, pixelWeights: null, count: trainBatch, seed: 1 }),
  );
  trainer.commit();
  await trainer.dispose();
} else {
  const optimizer = tf.train.adam(1e-3);
  const x = tf.tensor4d(images, [trainBatch, size, size, 1]);
  const y = tf.tensor4d(masks, [trainBatch, size, size, 1]);
  trainTimes = await timeRuns(warmup, steps, () => {
    const loss = optimizer.minimize(
      () => bceDiceLoss(tf, y, model.apply(x, { training: true }) as tfTypes.Tensor),
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  });
  tf.dispose([x, y]);
  optimizer.dispose();
}
const trainCpuS = lastCpuSeconds;

const inferImages = Array.from({ length: inferBatch }, () =>
  new Float32Array(size * size).map(() => random.next()),
);
let inferTimes: number[];
if (ort) {
  const runner = await onnxRunner(ort, model, size, inferBatch);
  inferTimes = await timeRuns(Math.max(1, warmup - 1), steps, () => runner.predict(inferImages));
  await runner.dispose();
} else {
  const xi = tf.tensor4d(Float32Array.from(inferImages.flatMap((image) => Array.from(image))), [
    inferBatch,
    size,
    size,
    1,
  ]);
  inferTimes = await timeRuns(Math.max(1, warmup - 1), steps, () =>
    tf.tidy(() => (model.predict(xi) as tfTypes.Tensor).dataSync()),
  );
  xi.dispose();
}
const inferCpuS = lastCpuSeconds;

function figures(batch: number, times: number[], cpuSPerStep: number) {
  return {
    batch,
    steps,
    medianStepS: Number(median(times).toFixed(3)),
    imagesPerS: Number((batch / median(times)).toFixed(3)),
    cpuSPerStep: Number(cpuSPerStep.toFixed(3)),
  };
}

const result = {
  engine: backendName === 'onnxruntime' ? 'onnxruntime' : `tfjs-${backendName}`,
  threads:
    backendName === 'wasm' ? wasmThreadCount() : backendName === 'onnxruntime' ? threads : null,
  threadsFailure: threadedWasmFailure(),
  base,
  size,
  matmulPeakGflops: Number(peak.gflops.toFixed(1)),
  train: figures(trainBatch, trainTimes, trainCpuS),
  infer: figures(inferBatch, inferTimes, inferCpuS),
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  wasmMemoryMiB: Math.round(tf.memory().numBytes / 2 ** 20),
};
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
