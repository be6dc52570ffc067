/** Shared fixtures of the project/review tests: temp projects with real PNG files on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { insertImage, upsertDataset } from '../../src/core/project/datasets';
import { setGroundTruth } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ProjectStore } from '../../src/core/project/store';
import type { Split } from '../../src/shared/contract-review';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qataseg-${prefix}-`));
}

/** A w x h mask with a filled rectangle [x0, x1) x [y0, y1). */
export function rectMask(w: number, h: number, x0: number, y0: number, x1: number, y1: number) {
  const data = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * w + x] = 255;
  return data;
}

export function foregroundOf(data: Uint8Array): number {
  return data.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
}

export async function writeGrayPng(file: string, data: Uint8Array, w: number, h: number) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

export interface FixtureImage {
  name: string;
  split: Split;
  gt?: Uint8Array | null;
}

/**
 * A project with one dataset of `images` (real 8-bit PNGs of size w x h under `<root>/Images`),
 * inserted through the repositories (not the importer) so review tests do not depend on it.
 */
export async function projectWithImages(images: FixtureImage[], w = 32, h = 24) {
  const dir = tempDir('project');
  const root = tempDir('dataset');
  const store = ProjectStore.open(dir);
  const datasetId = upsertDataset(store.db, {
    root,
    layout: 'test',
    maskPattern: null,
    controlsAsNegative: false,
  });
  const ids: number[] = [];
  for (const [index, image] of images.entries()) {
    const pixels = new Uint8Array(w * h).map((_, i) => (i * 7 + index * 13) % 256);
    await writeGrayPng(path.join(root, 'Images', image.name), pixels, w, h);
    const id = insertImage(store.db, {
      datasetId,
      relPath: `Images/${image.name}`,
      name: image.name,
      split: image.split,
      width: w,
      height: h,
      bitDepth: 8,
      channels: 1,
      format: 'png',
      fileSize: 1,
      sha256: `hash-${index}`,
    });
    if (image.gt) {
      setGroundTruth(store.db, id, {
        png: await encodeGray8(image.gt, w, h),
        width: w,
        height: h,
        foreground: foregroundOf(image.gt),
        sha256: `mask-${index}`,
      });
    }
    ids.push(id);
  }
  return { dir, root, store, ids, w, h };
}
