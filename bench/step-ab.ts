/**
 * Variants of the onnxruntime training step side by side: each variant's session (graph options,
 * session configuration) runs one step in turn, round after round, so a busy machine's load
 * falls on all of them alike. Prints wall and process CPU ms per step (medians) and each
 * variant's ratio to the first.
 *   tsx bench/step-ab.ts [--variants main,wino128] [--threads 2] [--base 16] [--size 256]
 *     [--batch 4] [--rounds 5]
 * Variants, joined by + to combine (nchwc16s32+nospin): main (the NCHW graph and the product's
 * session; the product's own graph is nchwc16s32 on AVX-512, nchwc8s32 on AVX2), nchwcB[sS]
 * (onnxruntime's blocked convs of block B on the layers of at least S px), winoN (Winograd for
 * convs with >= N channels), nospin (session.intra_op.allow_spinning 0), spin (explicitly 1),
 * parN (parallel execution mode: inter-op threads = --threads, N intra-op threads each), dynN
 * (session.dynamic_block_base N), aff (intra-op worker threads pinned to processors 2, 3, ... in
 * onnxruntime's 1-based numbering). --pin-main pins the calling thread to CPU 0 (processor 1).
 * Each round starts one variant further on (a fixed order made the first ~10% slower).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { loadRuntime } from '../src/core/ml/backends';
import { readWeights, sessionOptions } from '../src/core/ml/onnx/runtime';
import { buildTrainingGraph, type TrainGraphSpec } from '../src/core/ml/onnx/unet-graph';
import { Random } from '../src/core/math/random';
import { buildUNet } from '../src/core/ml/unet';
import { option } from './options';

const names = option('variants', 'main,wino128').split(',');
const threads = Number(option('threads', '2'));
const base = Number(option('base', '16'));
const size = Number(option('size', '256'));
const batch = Number(option('batch', '4'));
const rounds = Number(option('rounds', '5'));
process.env.QATASEG_THREADS = String(threads);
const { tf, ort } = await loadRuntime('onnxruntime');
if (!ort) throw new Error('onnxruntime did not load');

interface Variant {
  graph: Partial<TrainGraphSpec>;
  config: Record<string, Record<string, string>>;
  /** Session options over the product's (execution mode, thread pools). */
  options?: Record<string, unknown>;
}
/** `a+b+...`: the parts' graph options and session configurations merged. */
function variant(name: string): Variant {
  const merged: Variant = { graph: {}, config: {} };
  for (const p of name.split('+').map(part)) {
    merged.graph = { ...merged.graph, ...p.graph };
    merged.config = { ...merged.config, ...p.config };
    if (p.options) merged.options = { ...merged.options, ...p.options };
  }
  return merged;
}
function part(name: string): Variant {
  const wino = /^wino(\d+)$/.exec(name);
  if (wino) return { graph: { winogradMinChannels: Number(wino[1]) }, config: {} };
  if (name === 'nospin')
    return { graph: {}, config: { session: { 'intra_op.allow_spinning': '0' } } };
  if (name === 'spin')
    return { graph: {}, config: { session: { 'intra_op.allow_spinning': '1' } } };
  if (name === 'main') return { graph: {}, config: {} };
  // aff: each intra-op worker thread pinned to its own logical processor (2, 3, ...; the
  // calling thread, which also works, is left to the OS).
  if (name === 'aff') {
    const pinned = Array.from({ length: threads - 1 }, (_, k) => String(k + 2)).join(';');
    return { graph: {}, config: { session: { intra_op_thread_affinities: pinned } } };
  }
  // dynN: onnxruntime's session.dynamic_block_base N (smaller work items late in a parallel loop,
  // so a thread that falls behind is not waited for as long).
  const dynamic = /^dyn(\d+)$/.exec(name);
  if (dynamic) return { graph: {}, config: { session: { dynamic_block_base: dynamic[1] } } };
  // nchwcB[sS]: NCHWc convs of block B on layers of at least S px (default every layer).
  const nchwc = /^nchwc(\d+)(?:s(\d+))?$/.exec(name);
  if (nchwc)
    return {
      graph: { nchwcBlock: Number(nchwc[1]), nchwcMinSize: Number(nchwc[2] ?? 0) },
      config: {},
    };
  // Independent nodes (a conv's filter and input gradients) on two inter-op threads.
  const parallel = /^par(\d+)$/.exec(name);
  if (parallel)
    return {
      graph: {},
      config: {},
      options: {
        executionMode: 'parallel',
        interOpNumThreads: threads,
        intraOpNumThreads: Number(parallel[1]),
      },
    };
  throw new Error(`unknown variant ${name}`);
}

const model = buildUNet({ size, base }, tf);
const random = new Random(7);
const images = new Float32Array(batch * size * size).map(() => random.next());
const masks = new Float32Array(batch * size * size).map(() => (random.next() > 0.5 ? 1 : 0));
interface Run {
  name: string;
  session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  feeds: Record<string, InstanceType<typeof ort.Tensor>>;
  outputs: Record<string, { data: unknown }>;
  wall: number[];
  cpu: number[];
}
const runs: Run[] = [];
for (const name of names) {
  const v = variant(name);
  const graph = buildTrainingGraph({
    base,
    dropout: 0,
    batch,
    size,
    loss: 'bce-dice',
    ...v.graph,
  });
  const weights = readWeights(
    model,
    graph.trainable.map((p) => p),
  );
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    image: new ort.Tensor('float32', images, [batch, 1, size, size]),
    mask: new ort.Tensor('float32', masks, [batch, 1, size, size]),
  };
  for (const p of graph.trainable)
    feeds[p.key] = new ort.Tensor('float32', weights.get(p.key) as Float32Array, p.onnxShape);
  const session = await ort.InferenceSession.create(graph.bytes, {
    ...sessionOptions('training', threads, v.config),
    ...v.options,
  });
  const outputs = await session.run(feeds); // warm-up, and the figures every variant must match
  runs.push({ name, session, feeds, outputs, wall: [] as number[], cpu: [] as number[] });
}
// --pin-main: the calling thread (which works in every node too) pinned to CPU 0 once the
// sessions' pools exist (threads made later would inherit it), so `aff`'s workers never share
// its core.
if (process.argv.includes('--pin-main'))
  execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
// Each round starts one variant further on, so that no variant always runs first or always
// follows the same one (the previous session's spinning threads, caches).
for (let round = 0; round < rounds; round++)
  for (let k = 0; k < runs.length; k++) {
    const run = runs[(round + k) % runs.length];
    const cpu = process.cpuUsage();
    const start = performance.now();
    await run.session.run(run.feeds);
    run.wall.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    run.cpu.push((used.user + used.system) / 1000);
  }
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(
  `U-Net base ${base}, ${size} px, batch ${batch}, ${threads} thread(s), ${rounds} rounds; ` +
    `load average ${os.loadavg()[0].toFixed(1)}`,
);
const [first] = runs;
/** The largest difference of any output (loss, gradients, statistics) from the first variant's, relative to that output's largest value. */
function largestDifference(run: Run): number {
  let worst = 0;
  for (const [name, tensor] of Object.entries(first.outputs)) {
    const a = tensor.data as Float32Array;
    const b = run.outputs[name].data as Float32Array;
    let scale = 0;
    let difference = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]));
      difference = Math.max(difference, Math.abs(a[i] - b[i]));
    }
    const relative = scale > 0 ? difference / scale : difference;
    if (process.env.STEP_AB_DEBUG && relative > 1e-4)
      console.log(`    ${name}: ${relative.toExponential(1)} (scale ${scale.toExponential(1)})`);
    worst = Math.max(worst, relative);
  }
  return worst;
}
for (const run of runs)
  console.log(
    `  ${run.name.padEnd(10)} outputs within ${largestDifference(run).toExponential(1)} of ${first.name}`,
  );
for (const run of runs)
  console.log(
    `  ${run.name.padEnd(10)} wall ${median(run.wall).toFixed(0).padStart(5)} ms ` +
      `(x${(median(first.wall) / median(run.wall)).toFixed(2)})  CPU ${median(run.cpu).toFixed(0).padStart(5)} ms ` +
      `(x${(median(first.cpu) / median(run.cpu)).toFixed(2)})`,
  );
process.exit(0);
