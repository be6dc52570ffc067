/**
 * The engine's proof: a U-Net trained from scratch in the ML worker on a generated demo dataset
 * (small size and base so CI can afford it) reaches a Dice of at least 0.80 on the dataset's test
 * split, on both CPU engines of the ladder (onnxruntime's native kernels and tfjs wasm with the
 * project's kernels). The figure, the epochs, the time and the throughput are printed.
 */
import { afterAll, expect, it } from 'vitest';
import { createDemoProject } from '../../src/core/dataset/demo';
import { createService, type Service } from '../../src/core/service';
import { tempDir } from './project-fixtures';

let service: Service | null = null;
afterAll(() => {
  service?.close();
  delete process.env.QATASEG_REPLICAS;
});

it.each([
  ['onnxruntime', 1],
  // Each batch split across 2 replica threads (opt-in, QATASEG_REPLICAS): each part's batch norm
  // and Dice are its own. Seeds 1-4 gave 0.922 / 0.918 / 0.911 / 0.920 against 0.927 / 0.909 /
  // 0.898 / 0.881 in one session here at 64 px; at 256 px it scored 0.012 lower at the median
  // (bench/README.md, "Fifth round" and "Sixth round").
  ['onnxruntime', 2],
  ['wasm', 1],
] as const)(
  'trains from scratch on %s (%i replica) to a test-split Dice of at least 0.80 on demo phantoms',
  async (backend, replicas) => {
    service?.close();
    // The ML worker is a child process: it reads this when it starts.
    process.env.QATASEG_REPLICAS = String(replicas);
    const dir = tempDir('ml-proof');
    await createDemoProject(dir, { count: 60, seed: 7, size: 96 });
    service = createService({ transport: 'http', backend, projectDir: dir });
    const started = performance.now();
    const job = await service.invoke('train.start', {
      epochs: 16,
      size: 64,
      base: 8,
      batch: 4,
      learningRate: 3e-3,
      seed: 1,
      // The phantoms need no augmentation to generalise, and CI time is short.
      augment: false,
    });
    await service.jobs.wait(job.id).catch(() => undefined);
    const done = service.jobs.get(job.id);
    expect(done.error).toBeNull();
    const card = await service.invoke('models.get', { version: 'v1' });
    const evaluation = await service.invoke('evaluate.run', { split: 'test' });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `proof: test-split Dice ${evaluation.dice.toFixed(4)} (IoU ${evaluation.iou.toFixed(4)}) on ` +
        `${evaluation.images} images after ${card.history.length} epochs (best ${card.bestEpoch}), ` +
        `${card.data.train} train / ${card.data.val} val images at ${card.architecture?.size} px, ` +
        `base ${card.architecture?.base}, ${card.imagesPerSecond.toFixed(1)} img/s on ${card.backend}, ` +
        `${seconds.toFixed(0)} s in all`,
    );
    expect(evaluation.images).toBe(card.data.test);
    expect(evaluation.images).toBeGreaterThanOrEqual(10);
    expect(evaluation.dice).toBeCloseTo(card.metrics.test!.dice, 6);
    expect(card.backend).toBe(backend);
    if (backend === 'onnxruntime') {
      // 10 of each epoch's 11 steps are full batches of 4, which split 2 + 2; the last (3) does not.
      const split = replicas > 1 ? 160 : 0;
      expect(card.parallelism).toBe(
        `${split} of 176 steps split across replica threads, ${176 - split} in one session of 1 thread(s)`,
      );
    }
    expect(evaluation.dice).toBeGreaterThanOrEqual(0.8);
  },
  // The wasm run passed 400 s at a load average of 25 in the flake audit (timed out; the
  // onnxruntime run took 349 s): 3 times that (test/FLAKE-AUDIT.md).
  1_200_000,
);
