/**
 * Where a training step of the onnxruntime engine spends its time, per kernel class: the product's
 * own OnnxTrainer (training-step graph + Adam + moving averages) on U-Net base 16 at 256 px, with
 * onnxruntime's per-node profile (QATASEG_ONNX_PROFILE) summed over the timed steps. With replicas
 * (the default with 2+ threads) each replica's session writes its own profile; their kernels run
 * at the same time, so a class's figure is the replicas' mean (its share of the step's wall time).
 *   tsx bench/profile.ts [--base 16] [--size 256] [--batch 4] [--threads 2] [--replicas N]
 *     [--warmup 1] [--steps 3] [--loss bce-dice] [--top 12]
 * Classes: convs (forward and input-gradient 3x3 convs, the transposed convs and their input
 * gradients), filter gradients (im2col taps, the batched products and their batch sums), BN/ReLU
 * (batch norm + ReLU forward and backward, gradient sums), pooling, concat/split, loss, reshapes,
 * and Adam + moving averages + feeds (the step's wall time outside session.run).
 * The tfjs engines' profile is bench/profile-tfjs.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuntime } from '../src/core/ml/backends';
import type { LossName } from '../src/core/ml/losses';
import { OnnxTrainer } from '../src/core/ml/onnx/onnx-trainer';
import { Random } from '../src/core/math/random';
import { buildUNet } from '../src/core/ml/unet';
import { option } from './options';

const base = Number(option('base', '16'));
const size = Number(option('size', '256'));
const batch = Number(option('batch', '4'));
const threads = Number(option('threads', '2'));
const warmup = Number(option('warmup', '1'));
const steps = Number(option('steps', '3'));
const loss = option('loss', 'bce-dice') as LossName;
const top = Number(option('top', '12'));
const replicas = option('replicas', '');
if (replicas) process.env.QATASEG_REPLICAS = replicas;

/** One event of onnxruntime's profile (Chrome trace format; durations in microseconds). */
interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

export type KernelClass =
  | 'convs'
  | 'filter gradients'
  | 'BN/ReLU'
  | 'pooling'
  | 'concat/split'
  | 'NCHWc reorders'
  | 'loss'
  | 'reshape/copy'
  | 'other';

const ELEMENTWISE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Sum',
  'Relu',
  'Where',
  'Greater',
  'Sqrt',
  'Reciprocal',
  'ReduceMean',
  'ReduceSum',
  'ReduceSumSquare',
  'BatchNormalization',
  'Sigmoid',
  'Log',
  'Clip',
  'Neg',
  'And',
  'GreaterOrEqual',
  'LessOrEqual',
]);

/** The class of one node of the training graph, from its operator and input shapes. */
export function kernelClass(op: string, inputShapes: number[][]): KernelClass {
  const first = inputShapes[0] ?? [];
  if (op === 'Conv') {
    // The im2col of a filter gradient is the one conv with the nine one-hot taps [9, 1, 3, 3].
    const weight = inputShapes[1] ?? [];
    return weight[0] === 9 && weight[1] === 1 ? 'filter gradients' : 'convs';
  }
  if (op.startsWith('Conv')) return 'convs';
  // The layout changes around the blocked convolutions (onnxruntime's NCHWc kernels).
  if (op === 'ReorderInput' || op === 'ReorderOutput') return 'NCHWc reorders';
  if (op === 'FusedMatMul' || op === 'MatMul' || op === 'Gemm') return 'filter gradients';
  if (op === 'MaxPool' || op === 'ScatterElements' || op === 'ConstantOfShape') return 'pooling';
  if (op === 'Concat' || op === 'Split' || op === 'Slice') return 'concat/split';
  if (op === 'Transpose') return first.length === 3 ? 'filter gradients' : 'concat/split';
  if (op === 'Reshape' || op === 'Identity' || op === 'Shape' || op === 'Squeeze')
    return 'reshape/copy';
  if (ELEMENTWISE.has(op)) {
    // The products' batch sum of a filter gradient reduces a [n, cout, cin x 9] tensor.
    if (op === 'ReduceSum' && first.length === 3) return 'filter gradients';
    // Single-channel full-size maps are the head's probabilities and the loss.
    if (first.length === 4 && first[1] === 1) return 'loss';
    if (first.length <= 1 && inputShapes.every((shape) => shape.length <= 1)) return 'loss';
    return 'BN/ReLU';
  }
  return 'other';
}

const shapesOf = (event: ProfileEvent) =>
  (event.args?.input_type_shape ?? []).map((entry) => Object.values(entry)[0] ?? []);

process.env.QATASEG_THREADS = String(threads);
const profileDir = mkdtempSync(path.join(os.tmpdir(), 'qataseg-profile-'));
process.env.QATASEG_ONNX_PROFILE = path.join(profileDir, 'train');
const { tf, ort } = await loadRuntime('onnxruntime');
if (!ort) throw new Error('onnxruntime did not load');

const model = buildUNet({ size, base }, tf);
const random = new Random(7);
const images = new Float32Array(batch * size * size).map(() => random.next());
const masks = new Float32Array(batch * size * size).map(() => (random.next() > 0.5 ? 1 : 0));
const trainer = new OnnxTrainer(ort, tf, model, { size, loss, dropout: 0, learningRate: 1e-3 });
const step = () => trainer.step({ images, masks, pixelWeights: null, count: batch, seed: 1 });

for (let i = 0; i < warmup; i++) await step();
const stepMs: number[] = [];
const cpuStart = process.cpuUsage();
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  await step();
  stepMs.push(performance.now() - start);
}
const cpu = process.cpuUsage(cpuStart);
await trainer.dispose(); // the session writes its profile when released

const files = readdirSync(profileDir).filter((name) => name.endsWith('.json'));
if (files.length === 0) throw new Error('onnxruntime wrote no profile');
const sessions = files.length;
const runs: ProfileEvent[] = [];
const kernels: ProfileEvent[] = [];
for (const file of files) {
  const events = JSON.parse(readFileSync(path.join(profileDir, file), 'utf8')) as ProfileEvent[];
  // The last `steps` runs are the timed ones (the warm-up runs come first).
  const timed = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(-steps);
  const inTimedRun = (e: ProfileEvent) => timed.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
  runs.push(...timed);
  kernels.push(
    ...events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inTimedRun(e)),
  );
}
rmSync(profileDir, { recursive: true, force: true });

const byClass = new Map<string, number>();
const byOp = new Map<string, { ms: number; count: number }>();
for (const event of kernels) {
  const op = event.args?.op_name ?? 'unknown';
  const cls = kernelClass(op, shapesOf(event));
  const ms = event.dur / 1000 / steps / sessions;
  byClass.set(cls, (byClass.get(cls) ?? 0) + ms);
  const key = `${cls}: ${op}`;
  const entry = byOp.get(key) ?? { ms: 0, count: 0 };
  entry.ms += ms;
  entry.count += 1 / steps / sessions;
  byOp.set(key, entry);
}
const runMs = runs.reduce((sum, r) => sum + r.dur / 1000, 0) / steps / sessions;
const wallMs = stepMs.reduce((a, b) => a + b, 0) / steps;
byClass.set('Adam + moving avg + feeds (outside run)', Math.max(0, wallMs - runMs));

const [load1] = os.loadavg();
console.log(
  `U-Net base ${base}, ${size} px, batch ${batch}, ${threads} thread(s), ` +
    `${sessions} session(s) (${trainer.parallelism()}), loss ${loss}; ` +
    `${steps} timed steps after ${warmup}; load average ${load1.toFixed(1)}`,
);
console.log(
  `step ${wallMs.toFixed(0)} ms wall (${(batch / (wallMs / 1000)).toFixed(2)} img/s), ` +
    `session.run ${runMs.toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1000 / steps).toFixed(0)} ms/step`,
);
const pct = (ms: number) => `${((100 * ms) / wallMs).toFixed(1).padStart(5)}%`;
console.log('\nper kernel class (ms per step, % of the step wall time)');
for (const [cls, ms] of [...byClass.entries()].sort((a, b) => b[1] - a[1]))
  console.log(`  ${cls.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms ${pct(ms)}`);
console.log(`\ntop ${top} operators`);
for (const [key, { ms, count }] of [...byOp.entries()]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, top))
  console.log(
    `  ${key.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms ${pct(ms)} x${Math.round(count)}`,
  );
process.exit(0);
