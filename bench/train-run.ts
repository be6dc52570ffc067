/**
 * The product's training loop on real data: a generated demo project of phantoms, its train
 * split read by the ML worker's own data functions (core/ml/data.ts), `trainModel` with the
 * onnxruntime trainer and augmentation on, as the training job runs it. Runs alternate between
 * modes, so a busy machine's load falls on all alike. A mode is `graph:loader[:rN]`: graph
 * `blocked` (the NCHWc convolutions, the default) or `plain` (QATASEG_NCHWC=0); loader `thread`
 * (the default) or `inline` (QATASEG_LOADER_THREAD=0); `rN` splits each batch across N replica
 * threads (QATASEG_REPLICAS=N; the default is one per thread).
 * Prints per run the training img/s (epoch wall time), the seconds the loop waited for batches,
 * the process CPU seconds per image and the load average, then each mode's mean and its ratio to
 * the first mode.
 *   tsx bench/train-run.ts [--count 32] [--size 256] [--base 16] [--batch 4] [--epochs 1]
 *     [--threads 2] [--rounds 2] [--loss bce-dice] [--modes blocked:thread:r1,blocked:thread:r2,...]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoProject } from '../src/core/dataset/demo';
import { loadRuntime } from '../src/core/ml/backends';
import { loadTrainItem, openProjectReadOnly, readSplits } from '../src/core/ml/data';
import type { LossName } from '../src/core/ml/losses';
import { trainModel, type TrainItem } from '../src/core/ml/trainer';
import { option } from './options';

const count = Number(option('count', '32'));
const size = Number(option('size', '256'));
const base = Number(option('base', '16'));
const batch = Number(option('batch', '4'));
const epochs = Number(option('epochs', '1'));
const rounds = Number(option('rounds', '2'));
const loss = option('loss', 'bce-dice') as LossName;
const modes = option('modes', 'blocked:thread:r1,blocked:thread:r2').split(',');
const LOADER_THREAD: Record<string, string> = { inline: '0', thread: '1' };
for (const mode of modes) {
  const [graph, loader, replicas] = mode.split(':');
  if (
    !['plain', 'blocked'].includes(graph) ||
    !(loader in LOADER_THREAD) ||
    (replicas !== undefined && !/^r[1-9]$/.test(replicas))
  )
    throw new Error(`unknown mode ${mode}: graph plain|blocked, loader thread|inline, rN`);
}
const rates = new Map<string, number[]>();
process.env.QATASEG_THREADS = option('threads', '2');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-train-run-'));
try {
  await createDemoProject(dir, { count, seed: 7, size });
  const db = openProjectReadOnly(dir);
  const splits = readSplits(db, ['ground-truth'], 0.2, 1);
  const train: TrainItem[] = [];
  for (const pair of splits.train) train.push(await loadTrainItem(db, pair, size));
  db.close();
  const engine = await loadRuntime('onnxruntime');
  console.log(
    `${train.length} train images at ${size} px, base ${base}, batch ${batch}, ${epochs} epoch(s), ` +
      `${process.env.QATASEG_THREADS} onnxruntime thread(s), augmentation on, loss ${loss}`,
  );
  for (let round = 0; round < rounds; round++)
    for (const mode of modes) {
      const [graph, loader, replicas] = mode.split(':');
      process.env.QATASEG_NCHWC = graph === 'plain' ? '0' : '1';
      process.env.QATASEG_LOADER_THREAD = LOADER_THREAD[loader];
      if (replicas) process.env.QATASEG_REPLICAS = replicas.slice(1);
      else delete process.env.QATASEG_REPLICAS;
      const lines: string[] = [];
      const cpu = process.cpuUsage();
      const result = await trainModel(
        {
          engine,
          config: {
            size,
            base,
            batch,
            epochs,
            learningRate: 1e-3,
            seed: 1,
            loss,
            dropout: 0,
            augment: true,
          },
          train,
          val: train.slice(0, 2),
          checkpointDir: fs.mkdtempSync(path.join(dir, 'checkpoint-')),
        },
        { log: (line) => lines.push(line) },
      );
      const used = process.cpuUsage(cpu);
      const waited = lines
        .map((line) => Number(/([\d.]+) s of it waiting/.exec(line)?.[1] ?? 0))
        .reduce((a, b) => a + b, 0);
      console.log(
        `  ${mode.padEnd(18)}: ${result.imagesPerSecond.toFixed(2)} img/s, ` +
          `waited ${waited.toFixed(2)} s for batches in ${result.trainSeconds.toFixed(1)} s, CPU ` +
          `${((used.user + used.system) / 1e6 / (train.length * epochs)).toFixed(2)} s/image ` +
          `(epoch loss ${result.history.at(-1)?.loss.toFixed(5)}), load average ${os.loadavg()[0].toFixed(1)}`,
      );
      rates.set(mode, [...(rates.get(mode) ?? []), result.imagesPerSecond]);
    }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const first = mean(rates.get(modes[0])!);
  for (const mode of modes) {
    const values = rates.get(mode)!;
    console.log(
      `${mode.padEnd(18)}: mean ${mean(values).toFixed(2)} img/s (${values.map((v) => v.toFixed(2)).join(', ')}), ` +
        `${(mean(values) / first).toFixed(3)}x ${modes[0]}`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
