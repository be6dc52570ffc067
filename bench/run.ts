/**
 * `npm run bench`: the project's runtime against the PyTorch peer, side by side in one run
 * (ratios, never absolute times from different moments: these machines are shared and noisy).
 *
 *  - The project's CPU engines, 1 and 2 threads each: onnxruntime (the U-Net's training-step and
 *    inference graphs of src/core/ml/onnx, with Adam beside them) and tfjs wasm with the
 *    project's kernels (src/core/ml/kernels). U-Net base 16 at 256x256, training images/s at
 *    batch 4, inference images/s at batch 8, the GFLOP/s they imply, the engine's float32 matmul
 *    rate, the fraction of the machine's peak reached, peak RSS. Each configuration runs in its
 *    own process (bench/engine-unet.ts).
 *  - PyTorch CPU (bench/torch_peer.py via /usr/bin/python3) where python3-torch is
 *    installed, and torch.mm's float32 rate with the same thread count.
 *  - The machine's float32 matmul peak (numpy sgemm; install Debian's libopenblas0-pthread, else
 *    numpy falls back to the reference BLAS): the '% peak' columns are fractions of it.
 *  - The import benchmark (bench/import.ts) and the export benchmark (bench/export.ts).
 *  - Not here: the browser benchmark of the review UI (`npx tsx bench/ui-review.ts`), which needs
 *    Chromium and a built renderer.
 *
 * Writes bench/results/<date>.json. Options: --steps N (timed steps, default 5), --warmup N
 * (default 2), --threads 1,2, --engines onnxruntime,wasm, --peer-seconds S (default 30),
 * --no-peer, --no-import, --import-count N (default 2000), --no-export, --export-count N (default
 * 2000).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unetForwardFlops } from '../src/core/ml/unet';
import { option } from './options';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const PEER_SCRIPT = path.resolve(repoRoot, 'bench/torch_peer.py');
const PYTHON = '/usr/bin/python3';
const BASE = 16;
const SIZE = 256;
const TRAIN_BATCH = 4;
const INFER_BATCH = 8;
/** Forward and forward+backward GFLOP per image of the default U-Net (issue 4). */
const FORWARD_GFLOP = 6.03;
const TRAIN_GFLOP = 18.06;

const flag = (name: string) => process.argv.includes(`--${name}`);

const steps = option('steps', '5');
const warmup = option('warmup', '2');
const threadConfigs = option('threads', '1,2')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const engines = option('engines', 'onnxruntime,wasm')
  .split(',')
  .filter((name) => name === 'onnxruntime' || name === 'wasm');
const peerSeconds = option('peer-seconds', '30');
const importCount = Number(option('import-count', '2000'));

interface EngineRun {
  label: string;
  threads: number | null;
  trainImagesPerS: number | null;
  inferImagesPerS: number | null;
  matmulPeakGflops: number | null;
  peakRssMiB: number | null;
  /** Process CPU seconds per timed step (ours only): less sensitive to a busy machine. */
  cpuSPerStep?: { train: number; infer: number };
  note?: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Runs a command, streams nothing, resolves with stdout; rejects with the stderr tail. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`${path.basename(command)} exited ${code}: ${stderr.trim().slice(-400)}`));
    });
  });
}

function resultLine(stdout: string): Record<string, unknown> {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in: ${stdout.slice(-300)}`);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

const ENGINE_LABELS: Record<string, string> = {
  onnxruntime: 'onnxruntime + our graphs',
  wasm: 'tfjs wasm + our kernels',
};

async function runEngine(engine: string, threads: number): Promise<EngineRun> {
  const label = `${ENGINE_LABELS[engine] ?? engine}, ${threads} thread${threads > 1 ? 's' : ''}`;
  log(`[bench] ${label} ...`);
  const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const out = await runChild(process.execPath, [
    tsx,
    path.join(benchDir, 'engine-unet.ts'),
    ...['--backend', engine, '--threads', String(threads)],
    ...['--base', String(BASE), '--size', String(SIZE)],
    ...['--train-batch', String(TRAIN_BATCH), '--infer-batch', String(INFER_BATCH)],
    ...['--warmup', warmup, '--steps', steps],
  ]);
  const r = resultLine(out) as {
    threads: number;
    threadsFailure: string | null;
    matmulPeakGflops: number;
    train: { imagesPerS: number; cpuSPerStep: number };
    infer: { imagesPerS: number; cpuSPerStep: number };
    peakRssMiB: number;
  };
  return {
    label,
    threads: r.threads,
    trainImagesPerS: r.train.imagesPerS,
    inferImagesPerS: r.infer.imagesPerS,
    matmulPeakGflops: r.matmulPeakGflops,
    peakRssMiB: r.peakRssMiB,
    cpuSPerStep: { train: r.train.cpuSPerStep, infer: r.infer.cpuSPerStep },
    note:
      r.threads !== threads
        ? `asked for ${threads} threads, ran ${r.threads}${r.threadsFailure ? `: ${r.threadsFailure}` : ''}`
        : undefined,
  };
}

function torchAvailable(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!fs.existsSync(PEER_SCRIPT)) return `${PEER_SCRIPT} not found`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'python3-torch is not installed (apt-get install -y python3-torch)';
  }
}

const TORCH_MM = `
import time, torch, sys
torch.set_num_threads(int(sys.argv[1]))
n = 1024
a, b = torch.randn(n, n), torch.randn(n, n)
for _ in range(2): torch.mm(a, b)
best = min((lambda t: (torch.mm(a, b), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(10))
print('RESULT {"gflops": %.1f}' % (2 * n ** 3 / best / 1e9))
`;

/**
 * The machine's float32 matmul peak at a thread count: numpy's sgemm (OpenBLAS where Debian's
 * libopenblas0-pthread is installed; the reference BLAS otherwise, which is ~30x slower and says so).
 * The backends' own matmul figures (tfjs wasm, torch.mm) are kept beside it, not used as the peak.
 */
const NUMPY_MM = `
import sys, time, numpy as np
n = 2048
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print('RESULT {"gflops": %.1f}' % (2 * n ** 3 / best / 1e9))
`;

async function machinePeak(threads: number): Promise<number | null> {
  try {
    const count = String(threads);
    const out = await runChild(PYTHON, ['-c', NUMPY_MM], {
      OPENBLAS_NUM_THREADS: count,
      OMP_NUM_THREADS: count,
    });
    return (resultLine(out) as { gflops: number }).gflops;
  } catch {
    return null;
  }
}

async function runPeer(threads: number): Promise<EngineRun> {
  const label = `PyTorch CPU, ${threads} thread${threads > 1 ? 's' : ''}`;
  log(`[bench] ${label} ...`);
  const common = ['--base', String(BASE), '--size', String(SIZE), '--threads', String(threads)];
  const common2 = ['--seconds', peerSeconds];
  // torch.set_num_threads does not bind OpenBLAS's own pool: pin it to the same count.
  const env = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const train = resultLine(
    await runChild(
      PYTHON,
      [PEER_SCRIPT, '--mode', 'train', '--batch', String(TRAIN_BATCH), ...common, ...common2],
      env,
    ),
  ) as { images_per_s: number; max_rss_mib: number; engine: string };
  const infer = resultLine(
    await runChild(
      PYTHON,
      [PEER_SCRIPT, '--mode', 'infer', '--batch', String(INFER_BATCH), ...common, ...common2],
      env,
    ),
  ) as { images_per_s: number; max_rss_mib: number };
  const mm = resultLine(await runChild(PYTHON, ['-c', TORCH_MM, String(threads)], env)) as {
    gflops: number;
  };
  return {
    label: `${train.engine} CPU, ${threads} thread${threads > 1 ? 's' : ''}`,
    threads,
    trainImagesPerS: train.images_per_s,
    inferImagesPerS: infer.images_per_s,
    matmulPeakGflops: mm.gflops,
    peakRssMiB: Math.max(train.max_rss_mib, infer.max_rss_mib),
  };
}

async function runImportBench(): Promise<unknown> {
  const file = path.join(benchDir, 'import.ts');
  if (!fs.existsSync(file)) return { skipped: 'bench/import.ts not present' };
  log(`[bench] import (${importCount} images) ...`);
  type Bench = (options: { count?: number; log?: (line: string) => void }) => Promise<unknown>;
  const module = (await import(pathToFileURL(file).href)) as {
    benchImport?: Bench;
    benchDicomImport?: Bench;
  };
  if (typeof module.benchImport !== 'function')
    return { skipped: 'bench/import.ts has no benchImport' };
  const png = await module.benchImport({ count: importCount, log: () => {} });
  // The same phantoms as PNG, uncompressed DICOM and JPEG lossless DICOM (issue 13).
  const dicom = await module
    .benchDicomImport?.({ count: importCount, log })
    .catch((error: Error) => ({ error: error.message }));
  // DICOM import and first display per transfer syntax beside PNG (issue 21).
  const syntaxesFile = path.join(benchDir, 'dicom-syntaxes.ts');
  const dicomSyntaxes = fs.existsSync(syntaxesFile)
    ? await ((await import(pathToFileURL(syntaxesFile).href)) as { benchDicomSyntaxes: Bench })
        .benchDicomSyntaxes({ log })
        .catch((error: Error) => ({ error: error.message }))
    : undefined;
  return {
    ...(png as object),
    ...(dicom ? { dicom } : {}),
    ...(dicomSyntaxes ? { dicomSyntaxes } : {}),
  };
}

async function runExportBench(): Promise<unknown> {
  const count = Number(option('export-count', '2000'));
  log(`[bench] export (${count} masks) ...`);
  const { runExportBench: benchExport } = await import('./export');
  return benchExport({ count });
}

const fmt = (value: number | null, digits = 2) => (value == null ? '-' : value.toFixed(digits));
const pct = (value: number | null) => (value == null ? '-' : `${(100 * value).toFixed(0)}%`);

function row(run: EngineRun, peer: EngineRun | null, machinePeakGflops: number | null) {
  const trainGflops = run.trainImagesPerS == null ? null : run.trainImagesPerS * TRAIN_GFLOP;
  const inferGflops = run.inferImagesPerS == null ? null : run.inferImagesPerS * FORWARD_GFLOP;
  const ratio = (ours: number | null, theirs: number | null | undefined) =>
    ours == null || theirs == null ? null : ours / theirs;
  return {
    engine: run.label,
    threads: run.threads,
    trainImagesPerS: run.trainImagesPerS,
    trainGflops,
    trainPeakFraction:
      trainGflops != null && machinePeakGflops ? trainGflops / machinePeakGflops : null,
    inferImagesPerS: run.inferImagesPerS,
    inferGflops,
    inferPeakFraction:
      inferGflops != null && machinePeakGflops ? inferGflops / machinePeakGflops : null,
    machinePeakGflops,
    matmulPeakGflops: run.matmulPeakGflops,
    peakRssMiB: run.peakRssMiB,
    trainVsPeer: peer ? ratio(run.trainImagesPerS, peer.trainImagesPerS) : null,
    inferVsPeer: peer ? ratio(run.inferImagesPerS, peer.inferImagesPerS) : null,
    cpuSPerStep: run.cpuSPerStep,
    note: run.note,
  };
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const flops = unetForwardFlops(SIZE, BASE) / 1e9;
  log(
    `[bench] U-Net base ${BASE} ${SIZE}x${SIZE}: ${flops.toFixed(2)} GFLOP forward (issue: ${FORWARD_GFLOP})`,
  );

  const errors: string[] = [];
  const peerMissing = flag('no-peer') ? 'skipped (--no-peer)' : torchAvailable();
  // Interleave ours and the peer so both see the same machine load.
  const ours: EngineRun[] = [];
  const peers: EngineRun[] = [];
  for (const threads of threadConfigs) {
    for (const engine of engines) {
      try {
        ours.push(await runEngine(engine, threads));
      } catch (error) {
        errors.push(`${engine} ${threads} threads: ${(error as Error).message}`);
      }
    }
    if (!peerMissing) {
      try {
        peers.push(await runPeer(threads));
      } catch (error) {
        errors.push(`peer ${threads} threads: ${(error as Error).message}`);
      }
    }
  }
  const importResult = flag('no-import')
    ? { skipped: '--no-import' }
    : await runImportBench().catch((error: Error) => ({ error: error.message }));
  const exportResult = flag('no-export')
    ? { skipped: '--no-export' }
    : await runExportBench().catch((error: Error) => ({ error: error.message }));

  // Each configuration of ours against the peer with the same thread count, else the peer's best.
  const peerFor = (run: EngineRun) =>
    peers.find((p) => p.threads === run.threads) ??
    peers.reduce<EngineRun | null>(
      (best, p) => (!best || (p.threads ?? 0) > (best.threads ?? 0) ? p : best),
      null,
    );
  // The machine's matmul peak per thread count, measured once the engines are done.
  const peaks = new Map<number, number | null>();
  for (const threads of threadConfigs) peaks.set(threads, await machinePeak(threads));
  const rows = [
    ...ours.map((run) => row(run, peerFor(run), peaks.get(run.threads ?? 1) ?? null)),
    ...peers.map((run) => row(run, null, peaks.get(run.threads ?? 1) ?? null)),
  ];

  const header = [
    'engine',
    'train img/s',
    'GFLOP/s',
    '% peak',
    'infer img/s',
    'GFLOP/s',
    '% peak',
    'machine peak',
    'own mm',
    'RSS MiB',
    'train/peer',
    'infer/peer',
  ];
  const lines = rows.map((r) => [
    r.engine,
    fmt(r.trainImagesPerS),
    fmt(r.trainGflops, 1),
    pct(r.trainPeakFraction),
    fmt(r.inferImagesPerS),
    fmt(r.inferGflops, 1),
    pct(r.inferPeakFraction),
    fmt(r.machinePeakGflops, 1),
    fmt(r.matmulPeakGflops, 1),
    r.peakRssMiB == null ? '-' : String(r.peakRssMiB),
    r.trainVsPeer == null ? '-' : `${fmt(r.trainVsPeer)}x`,
    r.inferVsPeer == null ? '-' : `${fmt(r.inferVsPeer)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const print = (cells: string[]) =>
    console.log(
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
    );
  console.log(
    `\nU-Net base ${BASE}, ${SIZE}x${SIZE}; train batch ${TRAIN_BATCH}, infer batch ${INFER_BATCH}; ${TRAIN_GFLOP} / ${FORWARD_GFLOP} GFLOP per image; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`,
  );
  print(header);
  for (const line of lines) print(line);
  console.log('targets (issue 4): train >= 0.50x the peer, infer >= 1.00x the peer');
  if (peerMissing) console.log(`peer: ${peerMissing}`);
  for (const note of rows.filter((r) => r.note)) console.log(`note: ${note.engine}: ${note.note}`);
  for (const error of errors) console.log(`error: ${error}`);
  if (importResult) console.log(`import: ${JSON.stringify(importResult)}`);
  console.log(`export: ${JSON.stringify(exportResult)}`);

  const report = {
    date: started.toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
      node: process.version,
    },
    model: {
      base: BASE,
      size: SIZE,
      forwardGflop: FORWARD_GFLOP,
      trainGflop: TRAIN_GFLOP,
      trainBatch: TRAIN_BATCH,
      inferBatch: INFER_BATCH,
    },
    settings: { steps: Number(steps), warmup: Number(warmup), peerSeconds: Number(peerSeconds) },
    rows,
    peer: peerMissing ? { skipped: peerMissing } : undefined,
    import: importResult,
    export: exportResult,
    errors,
  };
  const resultsDir = path.join(benchDir, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}

await main();
