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
  meanBinaryEntropy,
  predictionUncertainty,
  spearman,
  lesionEntropyUncertainty,
} from '../src/core/ml/uncertainty';
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

/** Candidate scores, each from the 8-bit probability map alone. */
function median(values: Uint8Array): number {
  const histogram = new Uint32Array(256);
  for (const v of values) histogram[v]++;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v];
    if (seen * 2 >= values.length) return v;
  }
  return 255;
}

/** Probabilities rescaled above the image's own background (its median): 0 at or below it. */
function aboveBackground(probabilities: Uint8Array): Float64Array {
  const floor = median(probabilities) / 255;
  const out = new Float64Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] / 255;
    out[i] = p <= floor ? 0 : (p - floor) / (1 - floor);
  }
  return out;
}

const entropy = (p: number) =>
  p <= 0 || p >= 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));

/** Expected 1 - Dice of the drawn mask if the (background-relative) probabilities were true. */
function expectedDiceError(q: Float64Array, probabilities: Uint8Array): number {
  let overlap = 0;
  let drawn = 0;
  let mass = 0;
  for (let i = 0; i < q.length; i++) {
    const inMask = probabilities[i] >= 128;
    mass += q[i];
    if (inMask) {
      drawn++;
      overlap += q[i];
    }
  }
  if (mass + drawn === 0) return 0;
  return 1 - (2 * overlap) / (mass + drawn);
}

const CANDIDATES: Record<string, (probabilities: Uint8Array) => number> = {
  'lesion entropy (old)': lesionEntropyUncertainty,
  'whole-image entropy': meanBinaryEntropy,
  'stored score': predictionUncertainty,
  'expected 1-Dice raw': (p) =>
    expectedDiceError(Float64Array.from(p, (v) => v / 255), p),
  'expected 1-Dice >bg': (p) => expectedDiceError(aboveBackground(p), p),
  'entropy mass >bg / (mass+drawn)': (p) => {
    const q = aboveBackground(p);
    let undecided = 0;
    let mass = 0;
    let drawn = 0;
    for (let i = 0; i < q.length; i++) {
      undecided += q[i] > 0 ? entropy(q[i]) : 0;
      mass += q[i];
      if (p[i] >= 128) drawn++;
    }
    return mass + drawn === 0 ? 0 : undecided / (mass + drawn);
  },
};

function rankOf(scores: number[]): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const rank = new Array<number>(scores.length);
  order.forEach((index, position) => (rank[index] = position + 1));
  return rank;
}

function evaluate(models: ModelMaps[]) {
  const worst: Record<string, { spearman: number; missQuarter: number; misses: number }> = {};
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
      const entry = (worst[name] ??= { spearman: Infinity, missQuarter: 0, misses: 0 });
      entry.spearman = Math.min(entry.spearman, rho);
      entry.missQuarter += inQuarter;
      entry.misses += missRanks.length;
    }
  }
  console.log('\nover all models: worst Spearman, misses in the top quarter of their queue');
  for (const [name, entry] of Object.entries(worst)) {
    console.log(
      `  ${name.padEnd(34)} ${entry.spearman.toFixed(3).padStart(6)}  ${entry.missQuarter}/${entry.misses}`,
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
