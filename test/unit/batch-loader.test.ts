/**
 * The training loop's loader thread: batches made on the thread are the floats the loop would
 * make itself (crop, augmentation, weight maps are pure functions of the request), in order,
 * and the thread really runs (no silent inline fallback).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { prepareBatch, type BatchRequest, type TrainItem } from '../../src/core/ml/batch';
import { BatchLoader } from '../../src/core/ml/batch-loader';
import { Random } from '../../src/core/math/random';
import { tempDir } from './project-fixtures';

const require = createRequire(import.meta.url);

let loader: BatchLoader | null = null;
afterEach(async () => {
  await loader?.close();
  loader = null;
});

function items(count: number, size: number, seed: number, tile = false): TrainItem[] {
  const random = new Random(seed);
  return Array.from({ length: count }, (_, index) => {
    const width = tile ? size + 17 : size;
    const height = tile ? size - 9 : size;
    return {
      imageId: 100 + index,
      image: Uint8Array.from({ length: width * height }, () => random.int(256)),
      mask: Uint8Array.from({ length: width * height }, (_, i) =>
        i % width > width / 3 && i % width < width / 2 ? 255 : 0,
      ),
      ...(tile ? { width, height } : {}),
    };
  });
}

it('makes on its thread the same batches as the training loop, in order', async () => {
  loader = new BatchLoader(true);
  expect(loader.inlineReason).toBeNull();
  const requests: BatchRequest[] = [
    { items: items(4, 64, 1), size: 64, seed: 3, epoch: 1, augment: true, weighted: true },
    { items: items(3, 64, 2, true), size: 64, seed: 3, epoch: 2, augment: true, weighted: false },
    { items: items(2, 64, 3), size: 64, seed: 9, epoch: 1, augment: false, weighted: false },
  ];
  const made = await Promise.all(requests.map((request) => loader!.request(request)));
  expect(loader.inlineReason).toBeNull();
  made.forEach((batch, index) => {
    const expected = prepareBatch(requests[index]);
    expect(batch.count).toBe(expected.count);
    expect(batch.images).toEqual(expected.images);
    expect(batch.masks).toEqual(expected.masks);
    expect(batch.weights).toEqual(expected.weights);
  });
  // The augmentation did change the pixels (the test compares something real).
  const plain = prepareBatch({ ...requests[0], augment: false });
  expect(made[0].images).not.toEqual(plain.images);
});

it('makes batches inline when the thread is off', async () => {
  loader = new BatchLoader(false);
  expect(loader.inlineReason).toMatch(/LOADER_THREAD/);
  const request = {
    items: items(2, 32, 4),
    size: 32,
    seed: 1,
    epoch: 1,
    augment: true,
    weighted: false,
  };
  expect((await loader.request(request)).images).toEqual(prepareBatch(request).images);
});

it('keeps a process alive while its loop awaits a batch from the thread', () => {
  // A script whose only pending work is the thread's batch (the loop's thread is otherwise idle).
  const dir = tempDir('batch-loader');
  const script = path.join(dir, 'await-batch.ts');
  const loaderUrl = pathToFileURL(path.resolve('src/core/ml/batch-loader.ts')).href;
  fs.writeFileSync(
    script,
    [
      `import { BatchLoader } from ${JSON.stringify(loaderUrl)};`,
      'const loader = new BatchLoader(true);',
      'const image = new Uint8Array(32 * 32).fill(128);',
      'const items = [{ imageId: 1, image, mask: new Uint8Array(32 * 32) }];',
      'loader.request({ items, size: 32, seed: 1, epoch: 1, augment: true, weighted: false })',
      '  .then(async (batch) => {',
      "    console.log(`batch ${batch.count} ${loader.inlineReason ?? 'thread'}`);",
      '    await loader.close();',
      '  });',
    ].join('\n'),
  );
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const out = execFileSync(process.execPath, ['--import', tsx, script], { encoding: 'utf8' });
  expect(out.trim()).toBe('batch 1 thread');
}, 60_000);
