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
  passesUncertainty,
  meanBinaryEntropy,
  predictionUncertainty,
  spearman,
} from '../src/core/math/uncertainty';
import { createDemoProject } from '../src/core/dataset/demo';
import { currentLabel, revisionMask, revisionPixels } from '../src/core/project/masks';
import { createService } from '../src/core/service';
import { getImage, imageAbsolutePath } from '../src/core/project/images';
import { loadRuntime } from '../src/core/ml/backends';
import { createRunner } from '../src/core/ml/engine';
import { loadModel } from '../src/core/ml/model-io';
import { onnxDropoutRunner } from '../src/core/ml/onnx/runtime';
import { readImagePixels, readSplits, resizeGray } from '../src/core/ml/data';
import { trainParamsSchema } from '../src/shared/contract-ml';
import { probabilitiesToBytes, toUnitFloat } from '../src/core/ml/trainer';
import {
  DEFAULT_UNCERTAINTY_PASSES,
  predictTransformed,
  predictWithDropout,
} from '../src/core/ml/tta';
import {
  calibratedUncertainty,
  fitUncertaintyCalibration,
} from '../src/core/math/uncertainty-calibration';
import { predictionFeatures } from '../src/core/math/uncertainty-features';
import { versionDir } from '../src/core/ml/versions';
import { option } from './options';

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
/** Only the candidates whose name matches this regular expression. */
const only = option('only', '') ? new RegExp(option('only', '')) : null;

interface ModelMaps {
  name: string;
  /**
   * Per image, base64: 8-bit probabilities (the stored prediction) and 0/255 label; the
   * test-time augmentation passes and the Monte Carlo dropout passes at the network's input size
   * (pass 0 of each is the plain prediction).
   */
  images: {
    probabilities: string;
    label: string;
    tta?: string[];
    mc?: string[];
    /** The image and where the training job put it (absent in caches from before). */
    imageId?: number;
    split?: 'train' | 'val' | 'test';
  }[];
}

const passes = Number(option('passes', '8'));
const dropout = Number(option('dropout', '0'));
/** The dropout rate of the Monte Carlo passes: the trained rate, or --mc-rate for models without. */
const mcRate = Number(option('mc-rate', dropout > 0 ? String(dropout) : '0.2'));

/** The version's U-Net's passes over every image (in this process, the product's functions). */
async function passMaps(
  modelDir: string,
  images: { imageId: number; path: string; width: number; height: number }[],
) {
  const engine = await loadRuntime(backend);
  const model = await loadModel(engine.tf, modelDir);
  const runner = await createRunner(engine, model, size);
  const mcRunner = engine.ort ? await onnxDropoutRunner(engine.ort, model, size, mcRate, 7) : null;
  const out = new Map<number, { tta: string[]; mc?: string[] }>();
  const b64 = (map: Float32Array) => Buffer.from(probabilitiesToBytes(map)).toString('base64');
  try {
    for (const image of images) {
      const pixels = await readImagePixels(image.path);
      const input = toUnitFloat(
        await resizeGray(pixels.data, pixels.width, pixels.height, size, size, 'linear'),
      );
      const tta = await predictTransformed(runner, input, size, passes);
      const mc = mcRunner ? await predictWithDropout(runner, mcRunner, input, passes) : null;
      out.set(image.imageId, { tta: tta.map(b64), ...(mc ? { mc: mc.map(b64) } : {}) });
    }
  } finally {
    await runner.dispose();
    await mcRunner?.dispose();
    model.dispose();
  }
  return out;
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
            dropout,
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
          const targets = rows.map((row) => {
            const image = getImage(db, row.imageId);
            return {
              imageId: row.imageId,
              path: imageAbsolutePath(image),
              width: image.width,
              height: image.height,
            };
          });
          const extra = await passMaps(versionDir(service.project(), version), targets);
          // The job's own split (the contract's default labels and hold-out, the job's seed).
          const trainDefaults = trainParamsSchema.parse({});
          const splits = readSplits(db, trainDefaults.labels, trainDefaults.valFraction, seed);
          const splitOf = (imageId: number): 'train' | 'val' | 'test' =>
            splits.val.some((pair) => pair.imageId === imageId)
              ? 'val'
              : splits.test.some((pair) => pair.imageId === imageId)
                ? 'test'
                : 'train';
          const images = [];
          for (const row of rows) {
            const label = currentLabel(db, row.imageId);
            if (!label) continue;
            images.push({
              probabilities: Buffer.from(await revisionPixels(db, row.revisionId)).toString(
                'base64',
              ),
              label: Buffer.from(await revisionMask(db, label.id)).toString('base64'),
              ...extra.get(row.imageId),
              imageId: row.imageId,
              split: splitOf(row.imageId),
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

/** The per-pixel mean of 8-bit maps, 8-bit. */
function meanMap(maps: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(maps[0].length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const map of maps) sum += map[i];
    out[i] = Math.round(sum / maps.length);
  }
  return out;
}

/** The 8-bit value 90% of the way from the map's median to 0.5 ("nearly predicted"). */
function nearFrom(map: Uint8Array, fraction = 0.9): number {
  const background = quantile(map, 0.5) * 255;
  return background >= 128 ? 128 : Math.ceil(background + fraction * (128 - background));
}

/** The stored score's stake: pixels 30% of the way above the median, as a share of 0.5%. */
function stakeOf(map: Uint8Array): number {
  const from = nearFrom(map, 0.3);
  let extent = 0;
  for (const v of map) if (v >= from) extent++;
  return Math.min(1, extent / (0.005 * map.length));
}

/**
 * Passes' disagreement: the mean per-pixel standard deviation (0..0.5) over the pixels any pass
 * nearly predicts (relative to that pass's own background), doubled to 0..1, times the stake.
 */
function passStd(maps: Uint8Array[]): number {
  const mean = meanMap(maps);
  const near = maps.map((map) => nearFrom(map));
  let sum = 0;
  let count = 0;
  for (let i = 0; i < mean.length; i++) {
    if (!maps.some((map, k) => map[i] >= near[k])) continue;
    let variance = 0;
    for (const map of maps) variance += ((map[i] - mean[i]) / 255) ** 2;
    sum += Math.sqrt(variance / maps.length);
    count++;
  }
  return count === 0 ? 0 : 2 * (sum / count) * stakeOf(mean);
}

/** 1 - |every pass's mask| / |any pass's mask| (0 when no pass draws), times the stake. */
function maskDisagreement(maps: Uint8Array[]): number {
  let all = 0;
  let any = 0;
  for (let i = 0; i < maps[0].length; i++) {
    let drawn = 0;
    for (const map of maps) if (map[i] >= 128) drawn++;
    if (drawn > 0) any++;
    if (drawn === maps.length) all++;
  }
  return any === 0 ? 0 : (1 - all / any) * Math.min(1, any / (0.005 * maps[0].length));
}

/** maskDisagreement of the "nearly predicted" masks (each pass relative to its own median). */
function nearDisagreement(maps: Uint8Array[]): number {
  const near = maps.map((map) => nearFrom(map));
  let all = 0;
  let any = 0;
  for (let i = 0; i < maps[0].length; i++) {
    let drawn = 0;
    for (let k = 0; k < maps.length; k++) if (maps[k][i] >= near[k]) drawn++;
    if (drawn > 0) any++;
    if (drawn === maps.length) all++;
  }
  return any === 0 ? 0 : (1 - all / any) * Math.min(1, any / (0.005 * maps[0].length));
}

/** Mutual information (BALD): entropy of the mean minus mean entropy, over nearly predicted pixels. */
function mutualInformation(maps: Uint8Array[]): number {
  const mean = meanMap(maps);
  const near = nearFrom(mean);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < mean.length; i++) {
    if (mean[i] < near && !maps.some((map) => map[i] >= 128)) continue;
    let passEntropy = 0;
    for (const map of maps) passEntropy += entropy(map[i] / 255);
    sum += entropy(mean[i] / 255) - passEntropy / maps.length;
    count++;
  }
  return count === 0 ? 0 : (sum / count) * stakeOf(mean);
}

interface ImageMaps {
  probabilities: Uint8Array;
  tta: Uint8Array[] | null;
  mc: Uint8Array[] | null;
}

/** Candidate scores from the stored probability map alone. */
const MAP_CANDIDATES: Record<string, (probabilities: Uint8Array) => number> = {
  'stored score': predictionUncertainty,
  'entropy of drawn lesion (old)': lesionEntropyUncertainty,
  'whole-image entropy': meanBinaryEntropy,
  'entropy over p >= 0.3': (p) => entropyFrom(p, 0.3, false),
  'expected 1 - Dice': expectedDiceError,
  'masks at .35 vs .65': thresholdDisagreement,
  'nearly predicted, no stake': nearlyPredicted(0.5, false),
  'nearly predicted, p90 bg': nearlyPredicted(0.9, true),
};

/** Candidate scores from a set of passes (pass 0 the plain prediction at the network's size). */
const PASS_CANDIDATES: Record<string, (maps: Uint8Array[]) => number> = {
  'pixel std': passStd,
  'mask disagreement': maskDisagreement,
  'mutual information': mutualInformation,
  'stored score of mean': (maps) => predictionUncertainty(meanMap(maps)),
  'stored + pixel std': (maps) => predictionUncertainty(meanMap(maps)) + passStd(maps),
  'stored + mask disagr.': (maps) => predictionUncertainty(maps[0]) + maskDisagreement(maps),
  'stored x (1 + pixel std)': (maps) => predictionUncertainty(maps[0]) * (1 + passStd(maps)),
  'near-mask disagreement': nearDisagreement,
  'stored + near disagr.': (maps) => predictionUncertainty(maps[0]) + nearDisagreement(maps),
  'max(stored, mask disagr.)': (maps) =>
    Math.max(predictionUncertainty(maps[0]), maskDisagreement(maps)),
  'stored + mask disagr. / 2': (maps) =>
    predictionUncertainty(maps[0]) + maskDisagreement(maps) / 2,
  'mean stored + mask disagr.': (maps) =>
    predictionUncertainty(meanMap(maps)) + maskDisagreement(maps),
  'stored + mask disagr. / 4': (maps) =>
    predictionUncertainty(maps[0]) + maskDisagreement(maps) / 4,
  'product: passesUncertainty': passesUncertainty,
  'stored + near disagr. / 2': (maps) =>
    predictionUncertainty(maps[0]) + nearDisagreement(maps) / 2,
  'stored of each pass, max': (maps) => Math.max(...maps.map((m) => predictionUncertainty(m))),
  'stored of each pass, mean': (maps) =>
    maps.reduce((sum, m) => sum + predictionUncertainty(m), 0) / maps.length,
};

const passCount = (maps: Uint8Array[] | null, k: number) => (maps ? maps.slice(0, k) : null);
const CANDIDATES: Record<string, (image: ImageMaps) => number> = {
  ...Object.fromEntries(
    Object.entries(MAP_CANDIDATES).map(([name, score]) => [
      name,
      (image: ImageMaps) => score(image.probabilities),
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(PASS_CANDIDATES).flatMap(([name, score]) =>
      numbers(option('pass-counts', '4,8')).flatMap((k) => [
        [
          `TTA ${k}: ${name}`,
          (image: ImageMaps) => (image.tta ? score(passCount(image.tta, k)!) : NaN),
        ],
        [
          `MC ${k}: ${name}`,
          (image: ImageMaps) => (image.mc ? score(passCount(image.mc, k)!) : NaN),
        ],
      ]),
    ),
  ),
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
    const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
    const maps = model.images.map((image) => ({
      probabilities: bytes(image.probabilities),
      label: bytes(image.label),
      tta: image.tta ? image.tta.map(bytes) : null,
      mc: image.mc ? image.mc.map(bytes) : null,
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
      if (only && !only.test(name)) continue;
      const values = maps.map((m) => score(m));
      if (values.some((v) => Number.isNaN(v))) continue;
      const rho = spearman(values, errors);
      const ranks = rankOf(values);
      const missRanks = ranks.filter((_, i) => missed[i]);
      const inQuarter = missRanks.filter((r) => r <= maps.length / 4).length;
      console.log(
        `  ${name.padEnd(40)} Spearman ${rho.toFixed(3).padStart(6)}  misses ranked ` +
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
      `  ${name.padEnd(40)} worst ${entry.spearman.toFixed(3).padStart(6)}  mean ` +
        `${(entry.sum / models.length).toFixed(3).padStart(6)}  misses ${entry.missQuarter}/${entry.misses}`,
    );
  }
}

/**
 * The calibrated score (src/core/math/uncertainty-calibration.ts) as the product fits it: per
 * model, on the images of the job's own split it learnt from (train + val, as the training job
 * does), against the old score (passesUncertainty) on the same images. Spearman is reported on all
 * images (the queue sees the training images the fit saw), on the images the fit did NOT see (the
 * locked test split) and, for a fit on the validation split alone, on every image but those.
 */
function evaluateCalibration(models: ModelMaps[]) {
  const passes = DEFAULT_UNCERTAINTY_PASSES;
  const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
  const rows: Record<string, { all: number[]; unseen: number[]; misses: number; top: number }> = {};
  const add = (name: string, all: number, unseen: number, misses: number, top: number) => {
    const row = (rows[name] ??= { all: [], unseen: [], misses: 0, top: 0 });
    row.all.push(all);
    row.unseen.push(unseen);
    row.misses += misses;
    row.top += top;
  };
  console.log(`\ncalibrated score (${passes} test-time passes), Spearman with 1 - Dice:`);
  for (const model of models) {
    if (model.images.some((image) => !image.tta || !image.split)) {
      console.log(`  ${model.name}: the cache has no passes or split (train again)`);
      return;
    }
    const images = model.images.map((image) => {
      const probabilities = bytes(image.probabilities);
      const label = bytes(image.label);
      const maps = image.tta!.slice(0, passes).map(bytes);
      return {
        split: image.split!,
        features: predictionFeatures(maps),
        old: passesUncertainty(maps),
        error: 1 - dice(probabilities, label),
        missed: label.some((v) => v > 0) && !probabilities.some((v) => v >= 128),
      };
    });
    const errors = images.map((image) => image.error);
    const subset = (values: number[], keep: (index: number) => boolean) => {
      const kept = values.map((_, i) => i).filter(keep);
      return spearman(
        kept.map((i) => values[i]),
        kept.map((i) => errors[i]),
      );
    };
    const misses = (scores: number[]) => {
      const ranks = rankOf(scores);
      const missRanks = ranks.filter((_, i) => images[i].missed);
      return {
        ranks: missRanks.sort((a, b) => a - b),
        top: missRanks.filter((rank) => rank <= images.length / 4).length,
      };
    };
    const fit = (splits: string[]) =>
      fitUncertaintyCalibration(
        images
          .filter((image) => splits.includes(image.split))
          .map((image) => ({ features: image.features, error: image.error })),
        passes,
      );
    const learnt = fit(['train', 'val']);
    const valOnly = fit(['val']);
    const scores = {
      old: images.map((image) => image.old),
      'calibrated (train + val)': images.map((image) =>
        calibratedUncertainty(image.features, learnt),
      ),
      'calibrated (val only)': images.map((image) =>
        calibratedUncertainty(image.features, valOnly),
      ),
    };
    const unseenOf: Record<keyof typeof scores, (i: number) => boolean> = {
      old: (i) => images[i].split === 'test',
      'calibrated (train + val)': (i) => images[i].split === 'test',
      'calibrated (val only)': (i) => images[i].split !== 'val',
    };
    console.log(
      `${model.name}: fitted on ${learnt.images} (empty: ${learnt.empty.feature}` +
        `${learnt.empty.increasing ? '+' : '-'} over ${learnt.empty.images}, miss rate ` +
        `${learnt.emptyMissRate?.toFixed(2) ?? '-'}; drawn: ${learnt.drawn.feature} over ` +
        `${learnt.drawn.images}); val only ${valOnly.images}`,
    );
    for (const [name, values] of Object.entries(scores) as [keyof typeof scores, number[]][]) {
      const all = spearman(values, errors);
      const unseen = subset(values, unseenOf[name]);
      const missed = misses(values);
      console.log(
        `  ${name.padEnd(26)} all ${all.toFixed(3).padStart(6)}  not fitted on ` +
          `${unseen.toFixed(3).padStart(6)}  misses ranked [${missed.ranks.join(', ')}] of ${images.length}`,
      );
      add(name, all, unseen, missed.ranks.length, missed.top);
    }
  }
  console.log(
    `\nover the ${models.length} models: worst / mean Spearman on all images, on the images not ` +
      `fitted on (old: the test split), misses in the top quarter`,
  );
  const worstMean = (values: number[]) =>
    `${Math.min(...values).toFixed(3)} / ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(3)}`;
  for (const [name, row] of Object.entries(rows)) {
    console.log(
      `  ${name.padEnd(26)} all ${worstMean(row.all)}  not fitted on ${worstMean(row.unseen)}  ` +
        `misses ${row.top}/${row.misses}  per model all [${row.all.map((v) => v.toFixed(2)).join(' ')}] ` +
        `not fitted on [${row.unseen.map((v) => v.toFixed(2)).join(' ')}]`,
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
if (!option('calibration-only', '')) evaluate(models);
evaluateCalibration(models);
