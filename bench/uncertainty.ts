/**
 * Does the uncertainty score rank images by their error, and does the queue find the misses?
 * Generates the demo dataset, trains U-Nets on it with the product's own training job (the ML
 * worker, through the service), predicts every image, and prints per model, for each candidate
 * score: the Spearman rank correlation with 1 - Dice (the prediction against its ground truth;
 * 0 is a random order) and where the images with a missed lesion (prediction empty, label not)
 * rank in the queue (1 = first; "top quarter" is rank <= n / 4).
 *
 *   npx tsx bench/uncertainty.ts [--count 60] [--data-seed 1] [--image-size 64] [--size 64]
 *     [--base 8] [--batch 4] [--lr 0.003] [--epochs 2,6,12,20] [--seeds 1,2]
 *     [--backend onnxruntime] [--cache DIR]
 *
 * Each (epochs, seed) pair trains one version from scratch in the same project. --cache DIR keeps
 * each model's probability maps and labels in DIR (maps.json) and, when that file is there, scores
 * them again without training: candidates are compared on the same predictions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  lesionEntropyUncertainty,
  meanBinaryEntropy,
  predictionUncertainty,
  spearman,
} from '../src/core/math/uncertainty';
import { createDemoProject } from '../src/core/dataset/demo';
import { currentLabel, revisionMask, revisionPixels } from '../src/core/project/masks';
import { createService } from '../src/core/service';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}
const numbers = (text: string) => text.split(',').map(Number);

const count = Number(option('count', '60'));
const dataSeed = Number(option('data-seed', '1'));
const imageSize = Number(option('image-size', '64'));
const size = Number(option('size', '64'));
const base = Number(option('base', '8'));
const batch = Number(option('batch', '4'));
const learningRate = Number(option('lr', '0.003'));
const epochList = numbers(option('epochs', '2,6,12,20'));
const seeds = numbers(option('seeds', '1,2'));
const backend = option('backend', 'onnxruntime') as 'onnxruntime' | 'wasm';
const cacheDir = option('cache', '');

interface ModelMaps {
  name: string;
  /** Per image: 8-bit probabilities and 0/255 label, base64. */
  images: { probabilities: string; label: string }[];
}

async function trainModels(): Promise<ModelMaps[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-uncertainty-'));
  const models: ModelMaps[] = [];
  try {
    await createDemoProject(dir, { count, seed: dataSeed, size: imageSize });
    const service = createService({ transport: 'http', backend, projectDir: dir });
    try {
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
          const db = service.project().db;
          const rows = db
            .prepare(
              `SELECT ps.revision_id AS revisionId, ps.image_id AS imageId FROM prediction_stats ps
                 WHERE ps.model_version = ? ORDER BY ps.image_id`,
            )
            .all(version) as { revisionId: number; imageId: number }[];
          const images = [];
          for (const row of rows) {
            const label = currentLabel(db, row.imageId);
            if (!label) continue;
            images.push({
              probabilities: Buffer.from(await revisionPixels(db, row.revisionId)).toString(
                'base64',
              ),
              label: Buffer.from(await revisionMask(db, label.id)).toString('base64'),
            });
          }
          models.push({ name: `${version}: ${epochs} epochs, seed ${seed}`, images });
          console.log(`trained ${models.at(-1)!.name}`);
        }
      }
    } finally {
      service.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return models;
}

/** Dice of the prediction (p >= 0.5) against the label; 1 when both are empty. */
function dice(probabilities: Uint8Array, label: Uint8Array): number {
  let both = 0;
  let predicted = 0;
  let labelled = 0;
  for (let i = 0; i < label.length; i++) {
    const p = probabilities[i] >= 128;
    const l = label[i] > 0;
    if (p) predicted++;
    if (l) labelled++;
    if (p && l) both++;
  }
  return predicted + labelled === 0 ? 1 : (2 * both) / (predicted + labelled);
}

const entropy = (p: number) =>
  p <= 0 || p >= 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));

/** The q-quantile of 8-bit values, as a probability. */
function quantile(values: Uint8Array, q: number): number {
  const sorted = Uint8Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 255;
}

/** Mean entropy over the pixels with p >= floor, optionally scaled by their share of 0.5%. */
function entropyFrom(probabilities: Uint8Array, floor: number, stake: boolean): number {
  let sum = 0;
  let count = 0;
  for (const v of probabilities) {
    const p = v / 255;
    if (p < floor && v < 128) continue;
    sum += entropy(p);
    count++;
  }
  if (count === 0) return 0;
  return (sum / count) * (stake ? Math.min(1, count / (0.005 * probabilities.length)) : 1);
}

/** "Nearly predicted" from a background quantile, without or with the stake weighting. */
const nearlyPredicted = (backgroundQuantile: number, stake: boolean) => (p: Uint8Array) => {
  const background = quantile(p, backgroundQuantile);
  return entropyFrom(p, background + 0.9 * (0.5 - background), stake);
};

/** Expected 1 - Dice of the drawn mask if the model's probabilities were true. */
function expectedDiceError(probabilities: Uint8Array): number {
  let overlap = 0;
  let drawn = 0;
  let mass = 0;
  for (const v of probabilities) {
    mass += v / 255;
    if (v >= 128) {
      drawn++;
      overlap += v / 255;
    }
  }
  return mass + drawn === 0 ? 0 : 1 - (2 * overlap) / (mass + drawn);
}

/** 1 - Dice between the masks cut at 0.35 and at 0.65 (0 when both are empty). */
function thresholdDisagreement(probabilities: Uint8Array): number {
  let low = 0;
  let high = 0;
  for (const v of probabilities) {
    if (v >= 0.35 * 255) low++;
    if (v >= 0.65 * 255) high++;
  }
  // The high mask lies inside the low one, so their overlap is the high mask.
  return low + high === 0 ? 0 : 1 - (2 * high) / (low + high);
}

/** Candidate scores, each from the 8-bit probability map alone. */
const CANDIDATES: Record<string, (probabilities: Uint8Array) => number> = {
  'stored score': predictionUncertainty,
  'entropy of drawn lesion (old)': lesionEntropyUncertainty,
  'whole-image entropy': meanBinaryEntropy,
  'entropy over p >= 0.3': (p) => entropyFrom(p, 0.3, false),
  'expected 1 - Dice': expectedDiceError,
  'masks at .35 vs .65': thresholdDisagreement,
  'nearly predicted, no stake': nearlyPredicted(0.5, false),
  'nearly predicted, p90 bg': nearlyPredicted(0.9, true),
};

/**
 * Queue positions (1 = first) for a descending sort; a tie takes its last position, so an image
 * tied with many others at 0 does not count as near the top.
 */
function rankOf(scores: number[]): number[] {
  return scores.map((score) => scores.filter((other) => other >= score).length);
}

function evaluate(models: ModelMaps[]) {
  const worst: Record<
    string,
    { spearman: number; sum: number; missQuarter: number; misses: number }
  > = {};
  for (const model of models) {
    const maps = model.images.map((image) => ({
      probabilities: new Uint8Array(Buffer.from(image.probabilities, 'base64')),
      label: new Uint8Array(Buffer.from(image.label, 'base64')),
    }));
    const errors = maps.map((m) => 1 - dice(m.probabilities, m.label));
    const missed = maps.map(
      (m) => m.label.some((v) => v > 0) && !m.probabilities.some((v) => v >= 128),
    );
    const meanDice = errors.reduce((sum, e) => sum + (1 - e), 0) / errors.length;
    console.log(
      `${model.name}: mean Dice ${meanDice.toFixed(3)} over ${maps.length} images, ` +
        `${missed.filter(Boolean).length} missed lesions`,
    );
    for (const [name, score] of Object.entries(CANDIDATES)) {
      const values = maps.map((m) => score(m.probabilities));
      const rho = spearman(values, errors);
      const ranks = rankOf(values);
      const missRanks = ranks.filter((_, i) => missed[i]);
      const inQuarter = missRanks.filter((r) => r <= maps.length / 4).length;
      console.log(
        `  ${name.padEnd(34)} Spearman ${rho.toFixed(3).padStart(6)}  misses ranked ` +
          `[${missRanks.sort((a, b) => a - b).join(', ')}] of ${maps.length}`,
      );
      const entry = (worst[name] ??= { spearman: Infinity, sum: 0, missQuarter: 0, misses: 0 });
      entry.spearman = Math.min(entry.spearman, rho);
      entry.sum += rho;
      entry.missQuarter += inQuarter;
      entry.misses += missRanks.length;
    }
  }
  console.log(
    `\nover the ${models.length} models: worst and mean Spearman, missed lesions in the top quarter of their queue`,
  );
  for (const [name, entry] of Object.entries(worst)) {
    console.log(
      `  ${name.padEnd(34)} worst ${entry.spearman.toFixed(3).padStart(6)}  mean ` +
        `${(entry.sum / models.length).toFixed(3).padStart(6)}  misses ${entry.missQuarter}/${entry.misses}`,
    );
  }
}

const cacheFile = cacheDir ? path.join(cacheDir, 'maps.json') : '';
let models: ModelMaps[];
if (cacheFile && fs.existsSync(cacheFile)) {
  models = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as ModelMaps[];
  console.log(`${models.length} models' predictions from ${cacheFile}`);
} else {
  console.log(
    `demo: ${count} images of ${imageSize} px (seed ${dataSeed}); U-Net ${size} px base ${base}, ` +
      `batch ${batch}, lr ${learningRate}, ${backend}`,
  );
  models = await trainModels();
  if (cacheFile) {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(cacheFile, JSON.stringify(models));
  }
}
evaluate(models);
