/**
 * Kernel-time profile of one U-Net training step (or inference batch) on the loaded backend:
 * `tsx bench/profile.ts [--base 16] [--size 256] [--batch 4] [--infer] [--backend wasm]`.
 * Prints the kernels that take the most time, summed by kernel name.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../src/core/ml/backends';
import type { BackendName } from '../src/shared/contract';
import { buildUNet } from '../src/core/ml/unet';
import { bceDiceLoss } from './train-step';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const base = arg('base', 16);
const size = arg('size', 256);
const infer = process.argv.includes('--infer');
const batch = arg('batch', infer ? 8 : 4);
const backendIndex = process.argv.indexOf('--backend');
const backend = (backendIndex >= 0 ? process.argv[backendIndex + 1] : 'wasm') as BackendName;

const { tf } = await loadRuntime(backend);
const model = buildUNet({ size, base }, tf);
const optimizer = tf.train.adam(1e-3);
const x = tf.randomUniform([batch, size, size, 1]);
const y = tf.cast(tf.greater(tf.randomUniform([batch, size, size, 1]), 0.5), 'float32');

const step = () => {
  if (infer) {
    tf.tidy(() => (model.predict(x) as tfTypes.Tensor).dataSync());
    return;
  }
  const loss = optimizer.minimize(
    () => bceDiceLoss(tf, y, model.apply(x, { training: true }) as typeof x),
    true,
  );
  loss?.dataSync();
  loss?.dispose();
};

step(); // warm-up: weights, optimizer slots, XNNPACK operators
const t0 = performance.now();
step();
console.log(`step ${(performance.now() - t0).toFixed(0)} ms (unprofiled)`);
const info = await tf.profile(step);
const byKernel = new Map<string, { ms: number; count: number }>();
let total = 0;
for (const kernel of info.kernels) {
  const ms = Number(await kernel.kernelTimeMs);
  total += ms;
  const entry = byKernel.get(kernel.name) ?? { ms: 0, count: 0 };
  entry.ms += ms;
  entry.count += 1;
  byKernel.set(kernel.name, entry);
}
console.log(`profiled kernel time ${total.toFixed(0)} ms, peak bytes ${info.peakBytes}`);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
for (const [name, { ms, count }] of rows) {
  console.log(
    `${name.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}% x${count}`,
  );
}
