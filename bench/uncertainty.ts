/**
 * Does the uncertainty score rank images by their error? Generates the demo dataset, trains U-Nets
 * on it with the product's own training job (the ML worker, through the service), predicts every
 * image, and prints the Spearman rank correlation of each score with 1 - Dice (the prediction
 * against its ground truth), over all the images and over the test split. A score that ranks
 * errors has a clearly positive correlation; 0 is a random order.
 *
 *   npx tsx bench/uncertainty.ts [--count 100] [--data-seed 1] [--image-size 224] [--size 128]
 *     [--base 8] [--batch 8] [--epochs 8,12,20] [--seeds 1] [--backend onnxruntime] [--keep]
 *
 * Each (epochs, seed) pair trains one version from scratch in the same project. --keep leaves
 * the project folder (printed) for a closer look.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { meanBinaryEntropy, predictionUncertainty, spearman } from '../src/core/math/uncertainty';
import { createDemoProject } from '../src/core/dataset/demo';
import { revisionPixels } from '../src/core/project/masks';
import { createService } from '../src/core/service';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}
const numbers = (text: string) => text.split(',').map(Number);

const count = Number(option('count', '100'));
const dataSeed = Number(option('data-seed', '1'));
const imageSize = Number(option('image-size', '224'));
const size = Number(option('size', '128'));
const base = Number(option('base', '8'));
const batch = Number(option('batch', '8'));
const learningRate = Number(option('lr', '0.001'));
const epochList = numbers(option('epochs', '12'));
const seeds = numbers(option('seeds', '1'));
const backend = option('backend', 'onnxruntime') as 'onnxruntime' | 'wasm';
const keep = process.argv.includes('--keep');

/** The scores compared: the one the product stores and the whole-image entropy it replaced. */
/** Where the scores of the images lie: min, 10th and 90th percentile, max, standard deviation. */
function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.round(q * (sorted.length - 1))].toFixed(3);
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
  return `min ${at(0)} p10 ${at(0.1)} p90 ${at(0.9)} max ${at(1)} sd ${sd.toFixed(3)}`;
}

const SCORES: Record<string, (probabilities: Uint8Array) => number> = {
  'stored score': predictionUncertainty,
  'whole-image entropy': meanBinaryEntropy,
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-uncertainty-'));
try {
  await createDemoProject(dir, { count, seed: dataSeed, size: imageSize });
  const service = createService({ transport: 'http', backend, projectDir: dir });
  try {
    console.log(
      `demo: ${count} images of ${imageSize} px (seed ${dataSeed}); U-Net ${size} px base ${base}, ` +
        `batch ${batch}, ${backend}`,
    );
    for (const epochs of epochList) {
      for (const seed of seeds) {
        const job = await service.invoke('train.start', {
          epochs,
          size,
          base,
          batch,
          learningRate,
          seed,
          promote: 'always',
        });
        await service.jobs.wait(job.id);
        const version = (await service.invoke('models.list')).find((m) => m.active)!.version;
        const predict = await service.invoke('predict.start', {});
        await service.jobs.wait(predict.id);
        const card = await service.invoke('models.get', { version });
        const db = service.project().db;
        const rows = db
          .prepare(
            `SELECT ps.revision_id AS revisionId, ps.dice, i.split FROM prediction_stats ps
               JOIN images i ON i.id = ps.image_id WHERE ps.model_version = ? ORDER BY i.id`,
          )
          .all(version) as { revisionId: number; dice: number; split: string }[];
        const errors = rows.map((row) => 1 - row.dice);
        const test = rows.map((row) => row.split === 'test');
        const maps = await Promise.all(rows.map((row) => revisionPixels(db, row.revisionId)));
        const meanDice = rows.reduce((sum, row) => sum + row.dice, 0) / rows.length;
        console.log(
          `${version}: ${epochs} epochs, seed ${seed}: test Dice ${card.metrics.test?.dice.toFixed(3)}, ` +
            `mean Dice of all ${rows.length} images ${meanDice.toFixed(3)}`,
        );
        for (const [name, score] of Object.entries(SCORES)) {
          const values = maps.map(score);
          const pick = <T>(list: T[]) => list.filter((_, index) => test[index]);
          console.log(
            `  ${name.padEnd(22)} ${spread(values)}` +
              `  Spearman vs 1 - Dice: all ${spearman(values, errors).toFixed(3)},` +
              ` test ${spearman(pick(values), pick(errors)).toFixed(3)}`,
          );
        }
      }
    }
  } finally {
    service.close();
  }
} finally {
  if (keep) console.log(`project kept in ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
