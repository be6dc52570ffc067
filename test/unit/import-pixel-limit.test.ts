/**
 * Import never accepts an image it could not decode later: a pixel limit (configurable, 64 Mi by
 * default) is checked from the file's header, before any decoding, and a larger image is listed in
 * `skipped` with its size. A later step that fails on an imported image names its file.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { exportMasks } from '../../src/core/export/exporter';
import { queryImages } from '../../src/core/project/images';
import { ProjectStore } from '../../src/core/project/store';
import { Service } from '../../src/core/service';
import { importReportSchema } from '../../src/shared/dataset-schemas';
import { pngBomb, pngWith } from '../faults/png-bombs';
import { rectMask, tempDir, writeGrayPng } from './project-fixtures';

const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function dataset() {
  const root = tempDir('pixel-limit');
  await writeGrayPng(path.join(root, 'Images', 'small.png'), new Uint8Array(32 * 24), 32, 24);
  await writeGrayPng(
    path.join(root, 'Ground-truths', 'mask_small.png'),
    rectMask(32, 24, 1, 1, 9, 9),
    32,
    24,
  );
  await writeGrayPng(path.join(root, 'Images', 'medium.png'), new Uint8Array(200 * 200), 200, 200);
  // 380-odd bytes that claim 2147483647 x 2147483647, and a real bomb of 9000 x 9000 (81 Mpx).
  fs.writeFileSync(
    path.join(root, 'Images', 'liar.png'),
    pngWith(2147483647, 2147483647, zlib.deflateSync(Buffer.alloc(300))),
  );
  fs.writeFileSync(path.join(root, 'Images', 'bomb.png'), await pngBomb(9000, 9000));
  return root;
}

describe('import pixel limit', () => {
  it('skips images above the default limit from their header, naming their size', async () => {
    const root = await dataset();
    expect(fs.statSync(path.join(root, 'Images', 'liar.png')).size).toBeLessThan(400);
    const store = ProjectStore.open(tempDir('pixel-project'));
    stores.push(store);
    const { report } = await importDataset(store, { root });
    const imported = queryImages(store.db, {}).map((image) => image.relPath);
    expect(imported.sort()).toEqual(['Images/medium.png', 'Images/small.png']);
    expect(report.pairs).toBe(1);
    const reasons = Object.fromEntries(report.skipped.map((item) => [item.path, item.reason]));
    expect(reasons['Images/liar.png']).toMatch(
      /^image is 2147483647x2147483647 .* above the limit of 67108864 pixels/,
    );
    expect(reasons['Images/bomb.png']).toMatch(/^image is 9000x9000 \(81\.0 megapixels\)/);
  });

  it('takes the limit from the import (qataseg import --max-pixels)', async () => {
    const root = await dataset();
    const project = tempDir('pixel-cli');
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'import',
      root,
      '--project',
      project,
      '--max-pixels',
      '10000',
      '--json',
    ]);
    const report = importReportSchema.parse(JSON.parse(stdout));
    expect(report.skipped.map((item) => item.path).sort()).toEqual([
      'Images/bomb.png',
      'Images/liar.png',
      'Images/medium.png',
    ]);
    expect(report.skipped.find((item) => item.path === 'Images/medium.png')?.reason).toMatch(
      /^image is 200x200 .*above the limit of 10000 pixels.*--max-pixels/,
    );
    expect(report.pairs).toBe(1);
  });

  it('an image imported under a raised limit keeps working after the import (masks, export)', async () => {
    const root = tempDir('raised-limit');
    fs.mkdirSync(path.join(root, 'Images'));
    fs.mkdirSync(path.join(root, 'Ground-truths'));
    // 9000 x 9000 (81 Mpx, above the default limit), image and mask all zeros.
    fs.writeFileSync(path.join(root, 'Images', 'large.png'), await pngBomb(9000, 9000));
    fs.writeFileSync(path.join(root, 'Ground-truths', 'mask_large.png'), await pngBomb(9000, 9000));
    const store = ProjectStore.open(tempDir('raised-project'));
    stores.push(store);
    const { report } = await importDataset(store, { root, maxPixels: 100_000_000 });
    expect(report.skipped).toEqual([]);
    expect(report.pairs).toBe(1);
    const result = await exportMasks(store, { out: tempDir('raised-export') });
    expect(result.masks).toBe(1);
  });

  it('names the file when its thumbnail or display image cannot be made', async () => {
    const root = tempDir('later-failure');
    await writeGrayPng(path.join(root, 'Images', 'fine.png'), new Uint8Array(32 * 24), 32, 24);
    const dir = tempDir('later-project');
    const store = ProjectStore.open(dir);
    await importDataset(store, { root });
    const [image] = queryImages(store.db, {});
    store.close();
    // The file is damaged after the import.
    fs.writeFileSync(path.join(root, 'Images', 'fine.png'), 'no longer a PNG');
    const service = new Service({ transport: 'http', projectDir: dir });
    try {
      for (const kind of ['thumbnail', 'image'] as const) {
        await expect(service.media(kind, image.id, new URLSearchParams())).rejects.toThrow(
          /Images\/fine\.png/,
        );
      }
      // Replaced by a bomb: refused from its header, before any decoding.
      fs.writeFileSync(path.join(root, 'Images', 'fine.png'), await pngBomb(9000, 9000));
      await expect(service.media('thumbnail', image.id, new URLSearchParams())).rejects.toThrow(
        /Images\/fine\.png.* is now 9000x9000, imported as 32x24/,
      );
    } finally {
      service.close();
    }
  });
});
