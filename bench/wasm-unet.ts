/**
 * One measured configuration of the project's runtime (a child of bench/run.ts, so each gets its
 * own process, memory and peak RSS): U-Net training and inference images/s plus the float32
 * matmul peak of the same backend. Prints one line `RESULT {json}`.
 *   tsx bench/wasm-unet.ts [--backend wasm] [--threads 1] [--base 16] [--size 256]
 *     [--train-batch 4] [--infer-batch 8] [--warmup 2] [--steps 5]
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../src/core/ml/backends';
import { threadedWasmFailure, wasmThreadCount } from '../src/core/ml/kernels';
import { buildUNet } from '../src/core/ml/unet';
import type { BackendName } from '../src/shared/contract';
import { bceDiceLoss } from './train-step';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const backendName = option('backend', 'wasm') as BackendName;
const threads = Number(option('threads', '1'));
const base = Number(option('base', '16'));
const size = Number(option('size', '256'));
const trainBatch = Number(option('train-batch', '4'));
const inferBatch = Number(option('infer-batch', '8'));
const warmup = Number(option('warmup', '2'));
const steps = Number(option('steps', '5'));

if (backendName === 'wasm') process.env.QATASEG_WASM_THREADS = String(threads);
const runtime = await loadRuntime(backendName);
const { tf } = runtime;

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
function timeRuns(warm: number, count: number, run: () => void): number[] {
  for (let i = 0; i < warm; i++) run();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    run();
    times.push((performance.now() - start) / 1000);
  }
  const cpu = process.cpuUsage(cpuStart);
  lastCpuSeconds = (cpu.user + cpu.system) / 1e6 / count;
  return times;
}

function matmulPeak(): { gflops: number; n: number } {
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const times = timeRuns(2, 10, () => tf.tidy(() => tf.matMul(a, b).dataSync()));
  tf.dispose([a, b]);
  return { gflops: (2 * n ** 3) / Math.min(...times) / 1e9, n };
}

const peak = matmulPeak();

const model = buildUNet({ size, base }, tf);
const optimizer = tf.train.adam(1e-3);
const x = tf.randomUniform([trainBatch, size, size, 1]);
const y = tf.cast(tf.greater(tf.randomUniform([trainBatch, size, size, 1]), 0.5), 'float32');
const trainTimes = timeRuns(warmup, steps, () => {
  const loss = optimizer.minimize(
    () => bceDiceLoss(tf, y, model.apply(x, { training: true }) as tfTypes.Tensor),
    true,
  );
  loss?.dataSync();
  loss?.dispose();
});
const trainCpuS = lastCpuSeconds;
tf.dispose([x, y]);

const xi = tf.randomUniform([inferBatch, size, size, 1]);
const inferTimes = timeRuns(Math.max(1, warmup - 1), steps, () =>
  tf.tidy(() => (model.predict(xi) as tfTypes.Tensor).dataSync()),
);
const inferCpuS = lastCpuSeconds;
xi.dispose();

const result = {
  engine: `tfjs-${backendName}`,
  threads: backendName === 'wasm' ? wasmThreadCount() : null,
  threadsFailure: threadedWasmFailure(),
  base,
  size,
  matmulPeakGflops: Number(peak.gflops.toFixed(1)),
  train: {
    batch: trainBatch,
    steps,
    medianStepS: Number(median(trainTimes).toFixed(3)),
    imagesPerS: Number((trainBatch / median(trainTimes)).toFixed(3)),
    cpuSPerStep: Number(trainCpuS.toFixed(3)),
  },
  infer: {
    batch: inferBatch,
    steps,
    medianStepS: Number(median(inferTimes).toFixed(3)),
    imagesPerS: Number((inferBatch / median(inferTimes)).toFixed(3)),
    cpuSPerStep: Number(inferCpuS.toFixed(3)),
  },
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  wasmMemoryMiB: Math.round(tf.memory().numBytes / 2 ** 20),
};
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
