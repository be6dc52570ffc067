/**
 * Synthetic chest X-ray phantoms in the QaTa-COV19 v2 layout, deterministic for a seed: body and
 * lung fields, ribs, heart and mediastinum shadow, spine, noise, and ground-glass infection blobs
 * (varied number, size, brightness and texture; about one image in five has none). 8-bit gray
 * PNGs with 0/255 masks. The blobs are brighter than lung and mottled, so a small U-Net learns them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ImportResult } from '../../shared/dataset-schemas';
import type { JobReporter } from '../job-reporter';
import { ProjectStore } from '../project/store';
import { importDataset } from './import';

export interface DemoOptions {
  count?: number;
  seed?: number;
  size?: number;
  /** Fraction of images in `Test Set` (default 0.2). */
  testFraction?: number;
}

export interface DemoImage {
  image: Uint8Array;
  mask: Uint8Array;
  size: number;
  lesions: number;
}

/** mulberry32: small, fast, good enough for phantoms, identical on every platform. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const NOISE_TABLE_SIZE = 1 << 14;
let gaussianTable: Float32Array | null = null;

function noiseTable(): Float32Array {
  if (!gaussianTable) {
    const rng = createRng(12345);
    gaussianTable = new Float32Array(NOISE_TABLE_SIZE).map(() => gaussian(rng));
  }
  return gaussianTable;
}

/** Smooth random field in [0, 1]: bilinear interpolation of a coarse random grid. */
function valueNoise(rng: () => number, size: number, cells: number): Float32Array {
  const grid = new Float32Array((cells + 1) * (cells + 1)).map(() => rng());
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = (y / size) * cells;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    const sy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < size; x++) {
      const gx = (x / size) * cells;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const sx = fx * fx * (3 - 2 * fx);
      const a = grid[y0 * (cells + 1) + x0];
      const b = grid[y0 * (cells + 1) + x0 + 1];
      const c = grid[(y0 + 1) * (cells + 1) + x0];
      const d = grid[(y0 + 1) * (cells + 1) + x0 + 1];
      out[y * size + x] = a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
    }
  }
  return out;
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/** One phantom: image and mask, both size x size, one byte per pixel. */
export function demoPhantom(
  seed: number,
  index: number,
  size = 224,
  noInfection?: boolean,
): DemoImage {
  const rng = createRng((seed * 1_000_003 + index * 7919 + 1) >>> 0);
  const s = size;
  const n = s * s;
  const image = new Float32Array(n);
  const lungs = new Uint8Array(n);
  const mask = new Uint8Array(n);

  // Anatomy, in fractions of the image, jittered per image.
  const jitter = (amount: number) => (rng() - 0.5) * 2 * amount;
  const bodyRx = 0.44 + jitter(0.03);
  const bodyRy = 0.52 + jitter(0.03);
  const lungRx = 0.15 + jitter(0.02);
  const lungRy = 0.3 + jitter(0.03);
  const lungCy = 0.47 + jitter(0.03);
  const lungGap = 0.19 + jitter(0.02);
  const heartCx = 0.46 + jitter(0.03);
  const heartCy = 0.62 + jitter(0.03);
  const heartR = 0.13 + jitter(0.02);
  const exposure = 0.9 + jitter(0.15);
  const tissue = valueNoise(rng, s, 6);
  const ribPhase = rng() * Math.PI * 2;
  const ribCount = 7 + Math.floor(rng() * 3);

  for (let y = 0; y < s; y++) {
    const v = y / s;
    for (let x = 0; x < s; x++) {
      const u = x / s;
      const i = y * s + x;
      const body = ((u - 0.5) / bodyRx) ** 2 + ((v - 0.55) / bodyRy) ** 2;
      let value = 25;
      if (body < 1) value = 110 + 20 * (1 - body) + 15 * (tissue[i] - 0.5);
      // Lung fields: dark ellipses either side of the midline.
      for (let side = -1; side <= 1; side += 2) {
        const cx = 0.5 + side * lungGap;
        const d = ((u - cx) / lungRx) ** 2 + ((v - lungCy) / lungRy) ** 2;
        if (d < 1) {
          const edge = smoothstep(1, 0.75, d);
          value = value * (1 - edge) + (55 + 18 * v + 10 * (tissue[i] - 0.5)) * edge;
          if (d < 0.92) lungs[i] = 1;
          // Ribs: curved bright bands across the lung.
          const curve = v + 0.08 * ((u - cx) / lungRx) ** 2;
          const band = Math.sin(curve * ribCount * Math.PI * 2 + ribPhase);
          value += 28 * smoothstep(0.75, 0.95, band) * edge;
        }
      }
      // Spine and mediastinum: bright column; heart: bright disc low on the left of the image.
      value += 55 * smoothstep(0.06, 0.02, Math.abs(u - 0.5)) * smoothstep(0.05, 0.2, v);
      const heart = Math.sqrt(((u - heartCx) / 1.15) ** 2 + (v - heartCy) ** 2) / heartR;
      const heartShadow = smoothstep(1, 0.8, heart);
      value = value * (1 - heartShadow) + 150 * heartShadow;
      image[i] = value * exposure;
    }
  }
  for (let i = 0; i < n; i++) if (image[i] > 140 && lungs[i]) lungs[i] = 0; // no lesion under heart

  // Ground-glass infection: blobs of summed gaussians, cut at a level, inside the lungs only.
  const none = noInfection ?? rng() < 0.2;
  const lesions = none ? 0 : 1 + Math.floor(rng() * 4);
  if (lesions > 0) {
    const field = new Float32Array(n);
    const lungPixels: number[] = [];
    for (let i = 0; i < n; i++) if (lungs[i]) lungPixels.push(i);
    for (let k = 0; k < lesions && lungPixels.length > 0; k++) {
      const centre = lungPixels[Math.floor(rng() * lungPixels.length)];
      const cx = centre % s;
      const cy = Math.floor(centre / s);
      const radius = s * (0.05 + rng() * 0.08);
      const lobes = 2 + Math.floor(rng() * 3);
      for (let l = 0; l < lobes; l++) {
        const lx = cx + gaussian(rng) * radius * 0.5;
        const ly = cy + gaussian(rng) * radius * 0.5;
        const r = radius * (0.5 + rng() * 0.5);
        const x0 = Math.max(0, Math.floor(lx - 3 * r));
        const x1 = Math.min(s, Math.ceil(lx + 3 * r));
        const y0 = Math.max(0, Math.floor(ly - 3 * r));
        const y1 = Math.min(s, Math.ceil(ly + 3 * r));
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            field[y * s + x] += Math.exp(-((x - lx) ** 2 + (y - ly) ** 2) / (2 * r * r));
          }
        }
      }
    }
    const mottle = valueNoise(rng, s, Math.max(8, Math.round(s / 8)));
    const strength = 45 + rng() * 30;
    for (let i = 0; i < n; i++) {
      if (!lungs[i]) continue;
      const inside = smoothstep(0.45, 0.55, field[i]);
      if (field[i] >= 0.5) mask[i] = 255;
      image[i] += inside * strength * (0.75 + 0.5 * mottle[i]);
    }
  }

  // Quantum noise: gaussian values drawn from a table (a per-pixel Box-Muller is the slow part).
  const table = noiseTable();
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const value = image[i] + table[(rng() * NOISE_TABLE_SIZE) | 0] * 5;
    out[i] = value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
  }
  let foreground = 0;
  for (let i = 0; i < n; i++) if (mask[i]) foreground++;
  return { image: out, mask, size: s, lesions: foreground > 0 ? lesions : 0 };
}

function grayPng(data: Uint8Array, size: number): Promise<Buffer> {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.length), {
    raw: { width: size, height: size, channels: 1 },
  })
    .toColourspace('b-w')
    .png({ compressionLevel: 6 })
    .toBuffer();
}

export interface DemoSummary {
  root: string;
  train: number;
  test: number;
  withInfection: number;
}

/**
 * Creates `file`; where one exists it must hold these very bytes (the same phantom from the same
 * seed), else the folder holds someone else's data and nothing is replaced.
 */
async function writeOwnFile(file: string, data: Buffer): Promise<void> {
  try {
    await fs.writeFile(file, data, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = await fs.readFile(file).catch(() => null);
    if (!existing?.equals(data)) {
      throw new Error(
        `${file} already exists and is not this demo's file; choose an empty folder (nothing is replaced)`,
      );
    }
  }
}

/**
 * Writes `count` phantoms to `outDir` in the QaTa v2 layout (Train Set/, Test Set/). Files that
 * exist are never replaced (see writeOwnFile).
 */
export async function generateDemoDataset(
  outDir: string,
  options: DemoOptions = {},
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<DemoSummary> {
  const count = options.count ?? 100;
  const seed = options.seed ?? 1;
  const size = options.size ?? 224;
  const testEvery = Math.max(2, Math.round(1 / (options.testFraction ?? 0.2)));
  if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');
  if (!Number.isInteger(size) || size < 16 || size > 4096)
    throw new Error('--size must be 16..4096');
  const root = path.resolve(outDir);
  const dirs = {} as Record<'train' | 'test', { images: string; masks: string }>;
  for (const [split, folder] of [
    ['train', 'Train Set'],
    ['test', 'Test Set'],
  ] as const) {
    dirs[split] = {
      images: path.join(root, folder, 'Images'),
      masks: path.join(root, folder, 'Ground-truths'),
    };
    await fs.mkdir(dirs[split].images, { recursive: true });
    await fs.mkdir(dirs[split].masks, { recursive: true });
  }
  const summary: DemoSummary = { root, train: 0, test: 0, withInfection: 0 };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      if (signal?.aborted) throw new Error('cancelled');
      const index = next++;
      const split = count > 1 && index % testEvery === testEvery - 1 ? 'test' : 'train';
      const phantom = demoPhantom(seed, index, size);
      const name = `covid_${index + 1}.png`;
      const [imagePng, maskPng] = await Promise.all([
        grayPng(phantom.image, size),
        grayPng(phantom.mask, size),
      ]);
      await writeOwnFile(path.join(dirs[split].images, name), imagePng);
      await writeOwnFile(path.join(dirs[split].masks, `mask_${name}`), maskPng);
      summary[split]++;
      if (phantom.lesions > 0) summary.withInfection++;
      done++;
      onProgress?.(done, count);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return summary;
}

export const DEMO_DATASET_DIR = 'demo-dataset';

/**
 * Writes the demo dataset to `<projectDir>/demo-dataset` and imports it into the project there
 * (created if needed). Used by `npm start`'s first run and the e2e tests.
 */
export async function createDemoProject(
  projectDir: string,
  options: DemoOptions = {},
  reporter?: JobReporter,
): Promise<{ projectDir: string; datasetRoot: string; result: ImportResult }> {
  const datasetRoot = path.join(path.resolve(projectDir), DEMO_DATASET_DIR);
  reporter?.progress({ phase: 'generating phantoms', done: 0, total: options.count ?? 100 });
  await generateDemoDataset(
    datasetRoot,
    options,
    (done, total) => reporter?.progress({ done, total }),
    reporter?.signal,
  );
  const store = ProjectStore.open(projectDir);
  try {
    if (store.getMeta('name') === null) store.setMeta('name', 'Demo project');
    const result = await importDataset(store, { root: datasetRoot }, reporter);
    return { projectDir: store.dir, datasetRoot: result.root, result };
  } finally {
    store.close();
  }
}
