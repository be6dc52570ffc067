/**
 * A real training run of the product: the service's `train.start` job (the ML worker process,
 * its data pipeline and the onnxruntime trainer) on a generated demo project of phantoms, with
 * augmentation on, as a user starts it. Prints the model card's training img/s (wall time of the
 * epochs' steps), the run's wall time and the test Dice.
 *   tsx bench/train-run.ts [--count 40] [--size 128] [--base 16] [--batch 4] [--epochs 2]
 *     [--backend onnxruntime] [--threads 2] [--augment 1]
 * QATASEG_LOADER_THREAD=0 makes the batches inline (no loader thread), for a before/after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoProject } from '../src/core/dataset/demo';
import { createService } from '../src/core/service';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}
const count = Number(option('count', '40'));
const size = Number(option('size', '128'));
const base = Number(option('base', '16'));
const batch = Number(option('batch', '4'));
const epochs = Number(option('epochs', '2'));
const backend = option('backend', 'onnxruntime') as 'onnxruntime' | 'wasm';
process.env.QATASEG_THREADS = option('threads', '2');
const augment = option('augment', '1') === '1';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-train-run-'));
await createDemoProject(dir, { count, seed: 7, size });
const service = createService({ transport: 'http', backend, projectDir: dir });
try {
  const started = performance.now();
  const job = await service.invoke('train.start', {
    epochs,
    size,
    base,
    batch,
    learningRate: 3e-3,
    seed: 1,
    augment,
  });
  await service.jobs.wait(job.id).catch(() => undefined);
  const done = service.jobs.get(job.id);
  if (done.error) throw new Error(done.error);
  const wall = (performance.now() - started) / 1000;
  const card = await service.invoke('models.get', { version: 'v1' });
  console.log(
    `train-run: ${card.imagesPerSecond.toFixed(2)} img/s (training steps), ${wall.toFixed(1)} s wall, ` +
      `${card.data.train} train images x ${card.history.length} epochs at ${size} px, base ${base}, ` +
      `batch ${batch}, ${process.env.QATASEG_THREADS} thread(s), augment ${augment}, test Dice ` +
      `${card.metrics.test?.dice.toFixed(4)}, loader thread ${process.env.QATASEG_LOADER_THREAD ?? 'default'}, ` +
      `load average ${os.loadavg()[0].toFixed(1)}`,
  );
} finally {
  service.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
