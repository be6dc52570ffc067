/**
 * The uncertainty queue ranks images by their error and brings missed lesions to the top: small
 * U-Nets trained from scratch on demo phantoms by the product's training job (ML worker,
 * onnxruntime), every image predicted, then the worklist's uncertainty queue read as the Training
 * panel asks for it (about 32 images per model).
 *
 * What is asserted, over four seeds:
 * - The mean of the four models' Spearman correlations of the score with 1 - Dice exceeds 0.2.
 *   For a score that orders at random each correlation is 0 with a standard deviation of
 *   1 / sqrt(31) = 0.18, their mean 0.09, so 0.2 (2.2 standard deviations) fails a random score
 *   in 98.6% of cases.
 * - Every missed lesion (nothing predicted where the label has a lesion) is in the top quarter
 *   of its queue. Measured with these settings: 0.808, -0.067, 0.685, 0.346 (mean 0.443), seed
 *   2's miss 5th of 32. The score this replaced (entropy of the drawn lesion only) ranked that
 *   miss 32nd of 32 and fails; the whole-image entropy (-0.367 on seed 1, the miss 29th) fails.
 *
 * Why this is not flaky: the unit tests run onnxruntime with one thread and its deterministic
 * kernels (QATASEG_THREADS=1, QATASEG_DETERMINISTIC=1 in vitest.config.ts), so training is the
 * same computation every run. Measured: 12 runs (8 one after another, 4 two at a time beside
 * three other ML test files, on 2 cores with a load average of 7 to 15) all printed exactly the
 * figures above; the spread is 0. The false-failure rate on one
 * machine and build is therefore 0, far below 1 in 1,000. The seeds' spread is large (seeds 1-8
 * at these settings, all 40 images: -0.22 to 0.76, bench/uncertainty.ts), which is why the bound
 * is on the mean of four and set low: a machine whose CPU kernels round differently trains other
 * models, and if that moved the figures as much as a change of seed the bound would still hold
 * in about 9 runs out of 10, not 999 in 1,000; determinism, not the margin, carries the rate.
 */
import { afterAll, expect, it } from 'vitest';
import { createDemoProject } from '../../src/core/dataset/demo';
import { spearman } from '../../src/core/math/uncertainty';
import {
  currentLabel,
  latestPrediction,
  revisionMask,
  revisionPixels,
} from '../../src/core/project/masks';
import { createService, type Service } from '../../src/core/service';
import { tempDir } from './project-fixtures';

let service: Service | null = null;
afterAll(() => service?.close());

it('the uncertainty queue puts the images the model gets most wrong first and finds missed lesions', async () => {
  const dir = tempDir('uncertainty-ranking');
  await createDemoProject(dir, { count: 40, seed: 1, size: 64 });
  service = createService({ transport: 'http', backend: 'onnxruntime', projectDir: dir });
  const correlations: number[] = [];
  const missRanks: string[] = [];
  for (const seed of [1, 2, 3, 4]) {
    const train = await service.invoke('train.start', {
      epochs: 6,
      size: 64,
      base: 8,
      batch: 4,
      learningRate: 3e-3,
      seed,
      promote: 'always',
    });
    await service.jobs.wait(train.id);
    const predict = await service.invoke('predict.start', {});
    await service.jobs.wait(predict.id);
    const version = (await service.invoke('models.list')).find((model) => model.active)!.version;
    // The Training panel's uncertainty queue: unreviewed images outside the locked test split.
    const queue = await service.invoke('images.list', {
      sort: 'uncertainty',
      direction: 'desc',
      limit: 1000,
      filter: { state: 'unreviewed', splits: ['train', 'control', 'unassigned'] },
    });
    expect(queue.items.length).toBeGreaterThanOrEqual(30);
    const modelScores = queue.items.map((item) => item.uncertainty!);
    const modelErrors = queue.items.map((item) => 1 - item.dice!);
    // Sorted by the score, most uncertain first.
    expect([...modelScores].sort((a, b) => b - a)).toEqual(modelScores);
    correlations.push(spearman(modelScores, modelErrors));
    // Missed lesions: the label has a lesion, the prediction nothing at p >= 0.5. A miss tied
    // with other images takes the last of their positions.
    const db = service.project().db;
    for (const [index, item] of queue.items.entries()) {
      const label = currentLabel(db, item.id)!;
      const prediction = latestPrediction(db, item.id, version)!;
      const labelled = (await revisionMask(db, label.id)).some((v) => v > 0);
      const drawn = (await revisionPixels(db, prediction.id)).some((v) => v >= 128);
      if (!labelled || drawn) continue;
      const position = modelScores.filter((score) => score >= modelScores[index]).length;
      missRanks.push(`seed ${seed}: ${position} of ${queue.items.length}`);
      expect(position, `missed lesion of seed ${seed}`).toBeLessThanOrEqual(queue.items.length / 4);
    }
    console.log(
      `seed ${seed}: Spearman of uncertainty vs 1 - Dice over the ${queue.items.length} queued ` +
        `images ${correlations.at(-1)!.toFixed(3)}`,
    );
  }
  console.log(`missed lesions in the queue: ${missRanks.join('; ') || 'none'}`);
  const mean = correlations.reduce((sum, value) => sum + value, 0) / correlations.length;
  expect(mean).toBeGreaterThan(0.2);
}, 400_000);
