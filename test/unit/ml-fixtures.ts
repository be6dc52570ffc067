/** A small learnable project for the engine's tests: gray discs on noise, masks drawn from them. */
import path from 'node:path';
import { Random } from '../../src/core/math/random';
import { insertImage, upsertDataset } from '../../src/core/project/datasets';
import { setGroundTruth } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ProjectStore } from '../../src/core/project/store';
import { foregroundOf, tempDir, writeGrayPng } from './project-fixtures';

export function discScene(random: Random, width: number, height: number) {
  const image = new Uint8Array(width * height);
  const mask = new Uint8Array(width * height);
  const discs = Array.from({ length: random.int(3) }, () => ({
    x: random.uniform(0.2, 0.8) * width,
    y: random.uniform(0.2, 0.8) * height,
    r: random.uniform(0.08, 0.18) * width,
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = discs.some((d) => (x - d.x) ** 2 + (y - d.y) ** 2 < d.r * d.r);
      image[y * width + x] = Math.min(255, 70 + (inside ? 90 : 0) + random.int(50));
      mask[y * width + x] = inside ? 255 : 0;
    }
  }
  return { image, mask };
}

/** A project of `train` + `test` disc images (w x h PNGs on disk, ground truth in SQLite). */
export async function discProject(train: number, test: number, width = 48, height = 48, seed = 1) {
  const dir = tempDir('ml-project');
  const root = tempDir('ml-dataset');
  const store = ProjectStore.open(dir);
  const datasetId = upsertDataset(store.db, {
    root,
    layout: 'test',
    maskPattern: null,
    controlsAsNegative: false,
  });
  const random = new Random(seed);
  const ids: number[] = [];
  for (let index = 0; index < train + test; index++) {
    const { image, mask } = discScene(random, width, height);
    const name = `disc_${index + 1}.png`;
    await writeGrayPng(path.join(root, 'Images', name), image, width, height);
    const id = insertImage(store.db, {
      datasetId,
      relPath: `Images/${name}`,
      name,
      split: index < train ? 'train' : 'test',
      width,
      height,
      bitDepth: 8,
      channels: 1,
      format: 'png',
      fileSize: 1,
      sha256: `hash-${index}`,
    });
    setGroundTruth(store.db, id, {
      png: await encodeGray8(mask, width, height),
      width,
      height,
      foreground: foregroundOf(mask),
      sha256: `mask-${index}`,
    });
    ids.push(id);
  }
  store.close();
  return { dir, root, ids };
}
