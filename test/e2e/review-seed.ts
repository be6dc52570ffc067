/**
 * Seeds a project for the review e2e tests and the UI benchmark: synthetic chest-like phantoms with
 * a ground-truth lesion and a prediction that disagrees a little, written through the project's
 * own repositories (the same rows an import and a prediction job write). Deterministic by index.
 *
 * Large worklists (the 20,000-image benchmark) reuse a few distinct files through hard links, so
 * seeding stays fast while every row still has a decodable image of its own path.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ProjectStore } from '../../src/core/project/store';
import { insertImage, upsertDataset } from '../../src/core/project/datasets';
import { addPrediction, setGroundTruth } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { predictionFigures } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';

export interface SeedOptions {
  count: number;
  size: number;
  /** Distinct image files; rows beyond reuse them through hard links. */
  distinct?: number;
  withPredictions?: boolean;
}

export const SEED_MODEL = 'seed-model';

interface Sample {
  image: Buffer;
  mask: Uint8Array;
  maskPng: Buffer;
  prediction: Uint8Array;
  predictionPng: Buffer;
  figures: ReturnType<typeof predictionFigures>;
  foreground: number;
}

function phantom(
  index: number,
  size: number,
): { pixels: Uint8Array; mask: Uint8Array; prediction: Uint8Array } {
  const pixels = new Uint8Array(size * size);
  const mask = new Uint8Array(size * size);
  const prediction = new Uint8Array(size * size);
  const lesionX = size * (0.3 + 0.05 * (index % 5));
  const lesionY = size * (0.4 + 0.04 * (index % 7));
  const lesionR = size * (0.08 + 0.01 * (index % 4));
  // The prediction is offset a little so Dice < 1 and the diff has all three classes.
  const shift = size * 0.03;
  let seed = index * 2654435761;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const lungL =
        ((x - size * 0.33) / (size * 0.17)) ** 2 + ((y - size * 0.5) / (size * 0.33)) ** 2;
      const lungR =
        ((x - size * 0.67) / (size * 0.17)) ** 2 + ((y - size * 0.5) / (size * 0.33)) ** 2;
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) / 16;
      const base = lungL < 1 || lungR < 1 ? 60 : 170;
      const d = Math.hypot(x + 0.5 - lesionX, y + 0.5 - lesionY);
      const inLesion = d <= lesionR;
      pixels[i] = Math.min(255, base + (inLesion ? 50 : 0) + noise);
      mask[i] = inLesion ? 255 : 0;
      const dp = Math.hypot(x + 0.5 - lesionX - shift, y + 0.5 - lesionY);
      prediction[i] = Math.max(
        0,
        Math.min(255, Math.round(255 / (1 + Math.exp((dp - lesionR) / 2)))),
      );
    }
  }
  return { pixels, mask, prediction };
}

async function makeSample(index: number, size: number): Promise<Sample> {
  const { pixels, mask, prediction } = phantom(index, size);
  return {
    image: await encodeGray8(pixels, size, size),
    mask,
    maskPng: await encodeGray8(mask, size, size),
    prediction,
    predictionPng: await encodeGray8(prediction, size, size),
    figures: predictionFigures(prediction, mask),
    foreground: mask.reduce((n, v) => n + (v > 0 ? 1 : 0), 0),
  };
}

/** Creates `projectDir` with a dataset folder inside it; returns the image ids in name order. */
export async function seedReviewProject(
  projectDir: string,
  options: SeedOptions,
): Promise<number[]> {
  const { count, size } = options;
  const distinct = Math.min(count, options.distinct ?? count);
  const dataDir = path.join(projectDir, 'dataset', 'Images');
  fs.mkdirSync(dataDir, { recursive: true });
  const samples: Sample[] = [];
  for (let i = 0; i < distinct; i++) samples.push(await makeSample(i, size));
  const store = ProjectStore.open(projectDir);
  const ids: number[] = [];
  try {
    const datasetId = upsertDataset(store.db, {
      root: path.join(projectDir, 'dataset'),
      layout: 'seed',
      maskPattern: null,
      controlsAsNegative: false,
    });
    const digits = String(count).length;
    const insert = store.db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const sample = samples[i % distinct];
        const name = `phantom_${String(i).padStart(digits, '0')}.png`;
        const file = path.join(dataDir, name);
        if (i < distinct) fs.writeFileSync(file, sample.image);
        else
          fs.linkSync(
            path.join(dataDir, `phantom_${String(i % distinct).padStart(digits, '0')}.png`),
            file,
          );
        const id = insertImage(store.db, {
          datasetId,
          relPath: `Images/${name}`,
          name,
          split: i % 5 === 0 ? 'test' : 'train',
          width: size,
          height: size,
          bitDepth: 8,
          channels: 1,
          format: 'png',
          fileSize: sample.image.length,
          sha256: createHash('sha256').update(sample.image).digest('hex'),
        });
        setGroundTruth(store.db, id, {
          png: sample.maskPng,
          width: size,
          height: size,
          foreground: sample.foreground,
          sha256: null,
        });
        if (options.withPredictions !== false) {
          addPrediction(store.db, {
            imageId: id,
            modelVersion: SEED_MODEL,
            png: sample.predictionPng,
            width: size,
            height: size,
            ...sample.figures,
          });
        }
        ids.push(id);
      }
    });
    for (let from = 0; from < count; from += 1000) insert(from, Math.min(count, from + 1000));
    if (options.withPredictions !== false) store.setMeta(ACTIVE_MODEL_KEY, SEED_MODEL);
  } finally {
    store.close();
  }
  return ids;
}
