/**
 * Winograd F(2x2, 3x3) (src/core/ml/onnx/winograd.ts) against onnxruntime's direct 3x3 Conv, one
 * layer at a time, the U-Net's layer shapes at 256 px, batch 4; ratios within one run.
 *   tsx bench/winograd.ts [--threads 2] [--batch 4] [--reps 10]
 * Prints wall and process CPU ms per run of each and the direct/Winograd ratios (> 1: Winograd is
 * faster), after checking both give the same result (on a busy machine trust the CPU ratio).
 */
import { loadRuntime } from '../src/core/ml/backends';
import { GraphBuilder } from '../src/core/ml/onnx/graph';
import { winogradConv3x3, winogradFilters } from '../src/core/ml/onnx/winograd';
import { Random } from '../src/core/math/random';
import { option } from './options';

const threads = Number(option('threads', '2'));
const n = Number(option('batch', '4'));
const reps = Number(option('reps', '10'));
process.env.QATASEG_THREADS = String(threads);
const { ort } = await loadRuntime('onnxruntime');
if (!ort) throw new Error('onnxruntime did not load');

const layers = [
  { cin: 16, cout: 16, h: 256 },
  { cin: 32, cout: 32, h: 128 },
  { cin: 64, cout: 64, h: 64 },
  { cin: 128, cout: 128, h: 32 },
  { cin: 256, cout: 256, h: 16 },
  { cin: 32, cout: 16, h: 256 },
  { cin: 256, cout: 128, h: 32 },
];

function graph(kind: 'direct' | 'winograd', cin: number, cout: number, h: number) {
  const g = new GraphBuilder(kind);
  const x = g.input('x', 'float', [n, cin, h, h]);
  const w = g.input('w', 'float', [cout, cin, 3, 3]);
  const z =
    kind === 'direct'
      ? g.op('Conv', [x, w], { pads: [1, 1, 1, 1] })
      : winogradConv3x3(g, x, winogradFilters(g, w, cin, cout), { n, cin, cout, h });
  g.outputAs(z, 'z');
  return g.toBytes();
}

const options = {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential' as const,
  graphOptimizationLevel: 'all' as const,
  extra: { optimization: { disable_specified_optimizers: 'NchwcTransformer' } },
};
const random = new Random(3);
for (const { cin, cout, h } of layers) {
  const x = new Float32Array(n * cin * h * h).map(() => random.next() - 0.5);
  const w = new Float32Array(cout * cin * 9).map(() => (random.next() - 0.5) * 0.2);
  const feeds = {
    x: new ort.Tensor('float32', x, [n, cin, h, h]),
    w: new ort.Tensor('float32', w, [cout, cin, 3, 3]),
  };
  const direct = await ort.InferenceSession.create(graph('direct', cin, cout, h), options);
  const wino = await ort.InferenceSession.create(graph('winograd', cin, cout, h), options);
  const a = (await direct.run(feeds)).z.data as Float32Array;
  const b = (await wino.run(feeds)).z.data as Float32Array;
  let maxErr = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
    maxAbs = Math.max(maxAbs, Math.abs(a[i]));
  }
  const ms = { direct: 0, winograd: 0 };
  const cpuMs = { direct: 0, winograd: 0 };
  for (let r = 0; r < reps; r++) {
    for (const [name, session] of [
      ['direct', direct],
      ['winograd', wino],
    ] as const) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await session.run(feeds);
      ms[name] += (performance.now() - start) / reps;
      const used = process.cpuUsage(cpu);
      cpuMs[name] += (used.user + used.system) / 1000 / reps;
    }
  }
  const gflop = (2 * n * cin * cout * 9 * h * h) / 1e9;
  console.log(
    `${cin}->${cout} @${h}: direct ${ms.direct.toFixed(1)} ms (${(gflop / (ms.direct / 1000)).toFixed(1)} GFLOP/s), ` +
      `winograd ${ms.winograd.toFixed(1)} ms (${(gflop / (ms.winograd / 1000)).toFixed(1)} eff.), ` +
      `ratio ${(ms.direct / ms.winograd).toFixed(2)}; CPU ${cpuMs.direct.toFixed(1)} / ` +
      `${cpuMs.winograd.toFixed(1)} ms, ratio ${(cpuMs.direct / cpuMs.winograd).toFixed(2)}; ` +
      `max rel. err ${(maxErr / maxAbs).toExponential(1)}`,
  );
  await direct.release();
  await wino.release();
}
process.exit(0);
