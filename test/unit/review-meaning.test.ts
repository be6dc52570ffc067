/**
 * The clinical meaning of a review, guarded by the host: what the header counts, a negative image
 * never keeps a lesion, undo back to the ground truth restores the review state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { importDataset } from '../../src/core/dataset/import';
import { exportMasks } from '../../src/core/export/exporter';
import { setReview } from '../../src/core/project/images';
import { ProjectStore } from '../../src/core/project/store';
import { createService, type Service } from '../../src/core/service';
import { projectWithImages, rectMask, tempDir, writeGrayPng } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function serviceWith(...args: Parameters<typeof projectWithImages>) {
  const fixture = await projectWithImages(...args);
  fixture.store.close();
  const service = createService({ transport: 'http', projectDir: fixture.dir });
  services.push(service);
  return { ...fixture, service };
}

async function pngBase64(data: Uint8Array, w: number, h: number): Promise<string> {
  const buffer = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return buffer.toString('base64');
}

describe('project header counts', () => {
  it('counts images, labelled images and finished models, not stored revisions', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { service, ids } = await serviceWith([
      { name: 'a.png', split: 'train', gt },
      { name: 'b.png', split: 'train', gt },
      { name: 'c.png', split: 'test' },
    ]);
    // Three corrections of one image: more revisions, not more labelled images.
    for (let i = 0; i < 3; i++) {
      await service.invoke('masks.save', {
        imageId: ids[0],
        png: await pngBase64(rectMask(32, 24, 0, 0, 4 + i, 4), 32, 24),
      });
    }
    // A correction of an image without ground truth labels it.
    await service.invoke('masks.save', {
      imageId: ids[2],
      png: await pngBase64(rectMask(32, 24, 0, 0, 4, 4), 32, 24),
    });
    const state = await service.invoke('project.state');
    expect(state).toMatchObject({ imageCount: 3, labelledCount: 3, modelCount: 0 });
  });
});

describe('an empty import', () => {
  it('warns that no pairs were found and says what was looked for', async () => {
    const store = ProjectStore.open(tempDir('empty-import-project'));
    try {
      // A folder of images whose masks are named differently from anything the importer knows.
      const root = tempDir('empty-import');
      const pixels = new Uint8Array(16 * 16).fill(90);
      await writeGrayPng(path.join(root, 'Images', 'case1.png'), pixels, 16, 16);
      await writeGrayPng(path.join(root, 'Ground-truths', 'seg-case1.png'), pixels, 16, 16);
      const withImages = await importDataset(store, { root });
      expect(withImages.report.pairs).toBe(0);
      const warning = withImages.report.warnings.find((w) => w.path === '.');
      expect(warning?.message).toMatch(/no image\/mask pairs/);
      expect(warning?.message).toContain('1 image');
      expect(warning?.message).toContain('Ground-truths');
      expect(warning?.message).toContain('mask_case1.png');

      // A folder with no image at all says which folders and file types it looked for.
      const nothing = tempDir('empty-import-nothing');
      fs.writeFileSync(path.join(nothing, 'notes.txt'), 'hello');
      const empty = await importDataset(store, { root: nothing });
      const none = empty.report.warnings.find((w) => w.path === '.');
      expect(none?.message).toMatch(/no images/);
      expect(none?.message).toContain('Images/');
      expect(none?.message).toContain('.png');
    } finally {
      store.close();
    }
  });

  it('does not warn when pairs were found', async () => {
    const store = ProjectStore.open(tempDir('pairs-import-project'));
    try {
      const root = tempDir('pairs-import');
      const pixels = new Uint8Array(16 * 16).fill(90);
      await writeGrayPng(path.join(root, 'Images', 'case1.png'), pixels, 16, 16);
      await writeGrayPng(path.join(root, 'Ground-truths', 'mask_case1.png'), pixels, 16, 16);
      const result = await importDataset(store, { root });
      expect(result.report.pairs).toBe(1);
      expect(result.report.warnings.filter((w) => w.path === '.')).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('the worklist split set', () => {
  it('lists only the given splits (the labelling queues leave the locked test split out)', async () => {
    const { service } = await serviceWith([
      { name: 'a.png', split: 'train' },
      { name: 'b.png', split: 'test' },
      { name: 'c.png', split: 'unassigned' },
    ]);
    const list = await service.invoke('images.list', {
      filter: { splits: ['train', 'control', 'unassigned'] },
    });
    expect(list.total).toBe(2);
    expect(list.items.map((item) => item.split)).toEqual(['train', 'unassigned']);
  });
});

describe('a negative image', () => {
  it('is refused while its label has a lesion; cleared first, it is negative', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { service, ids } = await serviceWith([{ name: 'a.png', split: 'train', gt }]);
    const id = ids[0];
    await expect(service.invoke('review.set', { imageId: id, state: 'negative' })).rejects.toThrow(
      'has 64 lesion pixels: clear it to mark the image negative, or keep it',
    );
    expect((await service.invoke('images.get', { id })).reviewState).toBe('unreviewed');
    // A label saved as negative must be empty.
    await expect(
      service.invoke('masks.save', {
        imageId: id,
        png: await pngBase64(gt, 32, 24),
        reviewState: 'negative',
      }),
    ).rejects.toThrow('cannot be saved as negative');
    await service.invoke('masks.save', {
      imageId: id,
      png: await pngBase64(new Uint8Array(32 * 24), 32, 24),
    });
    const detail = await service.invoke('review.set', { imageId: id, state: 'negative' });
    expect(detail.reviewState).toBe('negative');
  });

  it('is exported without a lesion, whatever the source says', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { service, ids } = await serviceWith([
      { name: 'a.png', split: 'train', gt },
      { name: 'b.png', split: 'train', gt },
    ]);
    // A negative image whose ground truth has a lesion (e.g. a re-import brought one back).
    setReview(service.project().db, ids[0], { state: 'negative' });
    const out = path.join(tempDir('negative-export'), 'out');
    await exportMasks(service.project(), { out, source: 'ground-truth' });
    const read = async (name: string) =>
      (
        await sharp(path.join(out, 'Ground-truths', name))
          .extractChannel(0)
          .raw()
          .toBuffer()
      ).reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    expect(await read('mask_a.png')).toBe(0);
    expect(await read('mask_b.png')).toBe(64);
    const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8');
    expect(manifest).toMatch(/mask_a\.png.*negative/);
  });
});

describe('undo back to the ground truth', () => {
  it('returns the review state the image had before the edits; redo the state the save set', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { service, ids } = await serviceWith([{ name: 'a.png', split: 'train', gt }]);
    const id = ids[0];
    await service.invoke('review.set', { imageId: id, state: 'accepted' });
    for (const width of [12, 14]) {
      const detail = await service.invoke('masks.save', {
        imageId: id,
        png: await pngBase64(rectMask(32, 24, 2, 2, width, 10), 32, 24),
      });
      expect(detail.reviewState).toBe('corrected');
    }
    let detail = await service.invoke('masks.undo', { imageId: id });
    expect(detail.correctionRevisionId).not.toBeNull();
    expect(detail.reviewState).toBe('corrected');
    detail = await service.invoke('masks.undo', { imageId: id });
    expect(detail.correctionRevisionId).toBeNull();
    expect(detail.reviewState).toBe('accepted');
    detail = await service.invoke('masks.redo', { imageId: id });
    expect(detail.reviewState).toBe('corrected');
  });
});
