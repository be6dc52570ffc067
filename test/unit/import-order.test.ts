/**
 * Images are numbered in the order of their paths, whatever order their files finish decoding in:
 * the id is what training's splits, seeds and the worklist's default order follow, so an import
 * that numbered them by completion gave the same folder different models from run to run.
 */
import { afterEach, expect, it } from 'vitest';
import path from 'node:path';
import { importDataset } from '../../src/core/dataset/import';
import { ProjectStore } from '../../src/core/project/store';
import { rectMask, tempDir, writeGrayPng } from './project-fixtures';

const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/** Pseudo-random texture (compresses badly, so a large one takes a while to decode). */
function noise(width: number, height: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  return new Uint8Array(width * height).map(() => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  });
}

it('numbers the images of a folder in path order even when the first one decodes last', async () => {
  const root = tempDir('import-order-data');
  // The first path is by far the slowest to read; the others finish while it decodes.
  const files = [{ name: 'a_large.png', width: 2000, height: 2000 }];
  for (let i = 1; i <= 11; i++) {
    files.push({ name: `b_small_${String(i).padStart(2, '0')}.png`, width: 16, height: 16 });
  }
  for (const [index, file] of files.entries()) {
    await writeGrayPng(
      path.join(root, 'Images', file.name),
      noise(file.width, file.height, index + 1),
      file.width,
      file.height,
    );
    await writeGrayPng(
      path.join(root, 'Ground-truths', `mask_${file.name}`),
      rectMask(file.width, file.height, 0, 0, 4, 4),
      file.width,
      file.height,
    );
  }
  const store = ProjectStore.open(tempDir('import-order-project'));
  stores.push(store);
  await importDataset(store, { root });
  const rows = store.db.prepare('SELECT id, name FROM images ORDER BY id').all() as {
    id: number;
    name: string;
  }[];
  expect(rows.map((row) => row.name)).toEqual(files.map((file) => file.name));
});
