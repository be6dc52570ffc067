import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { importDataset } from '../../src/core/dataset/import';
import { decodeGray, imageToGrayPng, readGray8 } from '../../src/core/dataset/decode';
import {
  getImage,
  imageAbsolutePath,
  listImages,
  queryImages,
} from '../../src/core/project/images';
import { listRevisions, revisionMask } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import { rectMask, tempDir, writeGrayPng } from './project-fixtures';
import { bmp, png16, writeFile } from './dataset-files';

const W = 20;
const H = 16;
const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function project(): ProjectStore {
  const store = ProjectStore.open(tempDir('import-project'));
  stores.push(store);
  return store;
}

function tempMkdir(root: string, name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const texture = (seed: number) => new Uint8Array(W * H).map((_, i) => (i * 31 + seed * 17) % 251);

/** Every file under a folder with its size and modification time: proves nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = fs.statSync(full);
        out.push(`${path.relative(dir, full)}:${stat.size}:${stat.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

async function qataV2(root: string) {
  for (const [set, count] of [
    ['Train Set', 3],
    ['Test Set', 2],
  ] as const) {
    for (let i = 1; i <= count; i++) {
      const name = `covid_${set[1]}${i}.png`;
      await writeGrayPng(path.join(root, set, 'Images', name), texture(i), W, H);
      await writeGrayPng(
        path.join(root, set, 'Ground-truths', `mask_${name}`),
        rectMask(W, H, 0, 0, i * 2, 4),
        W,
        H,
      );
    }
  }
}

describe('dataset import', () => {
  it('imports a QaTa v2 layout with splits, ground truth and a report, writing nothing there', async () => {
    const root = tempDir('qata-v2');
    await qataV2(root);
    await writeGrayPng(
      path.join(root, 'Control_Group', 'Control_Group_I', 'c1.png'),
      texture(9),
      W,
      H,
    );
    await writeGrayPng(
      path.join(root, 'Control_Group', 'Control_Group_II', 'c2.png'),
      texture(8),
      W,
      H,
    );
    const before = snapshot(root);
    const store = project();
    const progress: unknown[] = [];
    const result = await importDataset(
      store,
      { root, controlsAsNegative: true },
      { progress: (p) => progress.push(p), signal: new AbortController().signal },
    );
    expect(result.report).toEqual({
      pairs: 5,
      imagesWithoutMask: 0,
      orphanMasks: 0,
      skipped: [],
      warnings: [],
      splits: { train: 3, test: 2, control: 2, unassigned: 0 },
    });
    expect(result.layout).toBe('control-groups+qata-v2');
    expect(progress.length).toBeGreaterThan(1);
    expect(snapshot(root)).toEqual(before);

    const images = queryImages(store.db);
    expect(images).toHaveLength(7);
    const train1 = images.find((i) => i.relPath === 'Train Set/Images/covid_r1.png')!;
    expect(train1).toMatchObject({ split: 'train', width: W, height: H, bitDepth: 8, channels: 1 });
    expect(train1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(imageAbsolutePath(train1)).toBe(
      path.join(fs.realpathSync(root), 'Train Set', 'Images', 'covid_r1.png'),
    );
    const mask = await revisionMask(store.db, train1.groundTruthId!);
    expect(Array.from(mask)).toEqual(Array.from(rectMask(W, H, 0, 0, 2, 4)));
    // Controls as negative: empty ground truth, state negative.
    const control = images.find((i) => i.split === 'control')!;
    expect(control.reviewState).toBe('negative');
    expect(
      Array.from(await revisionMask(store.db, control.groundTruthId!)).every((v) => v === 0),
    ).toBe(true);
    expect(store.getMeta('dataset_root')).toBe(fs.realpathSync(root));
    expect(listImages(store.db, { filter: { split: 'test' } }, null).total).toBe(2);
  });

  it('lists every bad file with a reason and never aborts', async () => {
    const root = tempDir('qata-v1');
    await writeGrayPng(path.join(root, 'Images', 'good.png'), texture(1), W, H);
    await writeGrayPng(
      path.join(root, 'Ground-truths', 'mask_good.png'),
      rectMask(W, H, 1, 1, 5, 5),
      W,
      H,
    );
    await writeGrayPng(path.join(root, 'Images', 'nomask.png'), texture(2), W, H);
    writeFile(path.join(root, 'Images', 'empty.png'), '');
    writeFile(path.join(root, 'Images', 'notes.txt'), 'hello');
    writeFile(path.join(root, 'Images', 'corrupt.png'), 'this is not a png at all');
    const good = fs.readFileSync(path.join(root, 'Images', 'good.png'));
    writeFile(path.join(root, 'Images', 'truncated.png'), good.subarray(0, good.length - 20));
    const damaged = Buffer.from(good);
    damaged[damaged.length - 30] ^= 0xff; // a flipped byte inside the image data
    writeFile(path.join(root, 'Images', 'damaged.png'), damaged);
    await writeGrayPng(path.join(root, 'Images', 'wrongsize.png'), texture(3), W, H);
    await writeGrayPng(
      path.join(root, 'Ground-truths', 'mask_wrongsize.png'),
      rectMask(10, 10, 0, 0, 2, 2),
      10,
      10,
    );
    await writeGrayPng(path.join(root, 'Images', 'grey.png'), texture(4), W, H);
    const greyMask = rectMask(W, H, 0, 0, 6, 6).map((v) => (v ? 128 : 0));
    greyMask[W * H - 1] = 7;
    await writeGrayPng(path.join(root, 'Ground-truths', 'mask_grey.png'), greyMask, W, H);
    await writeGrayPng(
      path.join(root, 'Ground-truths', 'mask_orphan.png'),
      rectMask(W, H, 0, 0, 1, 1),
      W,
      H,
    );
    writeFile(path.join(root, 'Ground-truths', 'mask_badmask.png'), 'garbage');
    writeFile(path.join(root, 'Ground-truths', 'readme.txt'), 'not a mask');
    await writeGrayPng(path.join(root, 'Images', 'badmask.png'), texture(5), W, H);

    const store = project();
    const { report } = await importDataset(store, { root });
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual([
      'Ground-truths/mask_badmask.png',
      'Ground-truths/mask_wrongsize.png',
      'Ground-truths/readme.txt',
      'Images/corrupt.png',
      'Images/damaged.png',
      'Images/empty.png',
      'Images/notes.txt',
      'Images/truncated.png',
    ]);
    expect(reasons['Images/empty.png']).toMatch(/empty/);
    expect(reasons['Images/notes.txt']).toMatch(/not an image/);
    expect(reasons['Ground-truths/mask_wrongsize.png']).toMatch(/10x10.*20x16/);
    expect(reasons['Images/truncated.png']).toMatch(/truncated/);
    expect(reasons['Images/damaged.png']).toMatch(/corrupt/);
    expect(report.warnings.map((w) => w.path)).toEqual(['Ground-truths/mask_grey.png']);
    expect(report).toMatchObject({
      pairs: 2, // good, grey
      imagesWithoutMask: 3, // nomask, wrongsize, badmask
      orphanMasks: 1,
      splits: { train: 0, test: 0, control: 0, unassigned: 5 },
    });
    const grey = queryImages(store.db).find((i) => i.name === 'grey.png')!;
    const binarised = await revisionMask(store.db, grey.groundTruthId!);
    expect(binarised.filter((v) => v === 255).length).toBe(37); // 36 of 128 and one of 7
    const wrong = queryImages(store.db).find((i) => i.name === 'wrongsize.png')!;
    expect(wrong.groundTruthId).toBeNull();
  });

  it('reads masks of any image format through the registry, and says why one is unreadable', async () => {
    const root = tempDir('qata-v1-masks');
    const raw = { raw: { width: W, height: H, channels: 1 as const } };
    await sharp(Buffer.from(texture(1)), raw)
      .jpeg()
      .toFile(path.join(tempMkdir(root, 'Images'), 'a.jpg'));
    await sharp(Buffer.from(texture(2)), raw)
      .jpeg()
      .toFile(path.join(root, 'Images', 'b.jpg'));
    // A lossless mask in another format than PNG (BMP), and a mask no reader knows.
    writeFile(
      path.join(tempMkdir(root, 'Ground-truths'), 'mask_a.jpg'),
      bmp(rectMask(W, H, 2, 2, 6, 5), W, H, 1),
    );
    writeFile(path.join(root, 'Ground-truths', 'mask_b.jpg'), 'neither an image nor a mask');

    const store = project();
    const { report } = await importDataset(store, { root });
    expect(report.skipped).toEqual([
      {
        path: 'Ground-truths/mask_b.jpg',
        reason: 'mask: not a readable image (unsupported or corrupt data)',
      },
    ]);
    expect(report).toMatchObject({ pairs: 1, imagesWithoutMask: 1 });
    const a = queryImages(store.db).find((i) => i.name === 'a.jpg')!;
    const mask = await revisionMask(store.db, a.groundTruthId!);
    expect(mask.filter((v) => v === 255).length).toBe(4 * 3);
  });

  it('reads LViT folders, 16-bit, RGB, RGBA, JPEG, TIFF and BMP images and a mask pattern', async () => {
    const root = tempDir('lvit');
    const rgb = new Uint8Array(W * H * 3).map((_, i) => (i * 7) % 256);
    const train = path.join(root, 'Train_Folder');
    fs.mkdirSync(path.join(train, 'img'), { recursive: true });
    await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } })
      .jpeg()
      .toFile(path.join(train, 'img', 'a.jpg'));
    const rgba = new Uint8Array(W * H * 4).fill(200);
    await sharp(Buffer.from(rgba), { raw: { width: W, height: H, channels: 4 } })
      .png()
      .toFile(path.join(train, 'img', 'b.png'));
    await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } })
      .tiff()
      .toFile(path.join(train, 'img', 'c.tif'));
    const values16 = new Uint16Array(W * H).map((_, i) => 1000 + i * 10);
    writeFile(path.join(root, 'Test_Folder', 'img', 'd.png'), png16(values16, W, H));
    writeFile(path.join(root, 'Test_Folder', 'img', 'e.bmp'), bmp(texture(3), W, H, 1));
    writeFile(path.join(root, 'Test_Folder', 'img', 'f.bmp'), bmp(rgb, W, H, 3));
    for (const name of ['a', 'b', 'c']) {
      await writeGrayPng(
        path.join(train, 'labelcol', `${name}-mask.png`),
        rectMask(W, H, 0, 0, 3, 3),
        W,
        H,
      );
    }
    for (const name of ['d', 'e', 'f']) {
      await writeGrayPng(
        path.join(root, 'Test_Folder', 'labelcol', `${name}-mask.png`),
        rectMask(W, H, 0, 0, 3, 3),
        W,
        H,
      );
    }
    const store = project();
    const { report, layout } = await importDataset(store, { root, maskPattern: '{stem}-mask.png' });
    expect(layout).toBe('lvit');
    expect(report).toMatchObject({ pairs: 6, imagesWithoutMask: 0, orphanMasks: 0, skipped: [] });
    expect(report.splits).toMatchObject({ train: 3, test: 3 });
    const byName = Object.fromEntries(queryImages(store.db).map((i) => [i.name, i]));
    expect(byName['a.jpg']).toMatchObject({ format: 'jpeg', channels: 3, bitDepth: 8 });
    expect(byName['b.png']).toMatchObject({ channels: 4 });
    expect(byName['c.tif']).toMatchObject({ format: 'tiff' });
    expect(byName['d.png']).toMatchObject({ bitDepth: 16, channels: 1 });
    expect(byName['e.bmp']).toMatchObject({ format: 'bmp', width: W, height: H });

    // 16-bit keeps its full range; 8-bit display stretches the used range.
    const full = await decodeGray(fs.readFileSync(imageAbsolutePath(byName['d.png'])));
    expect(full.bitDepth).toBe(16);
    expect(Array.from(full.data.slice(0, 3))).toEqual([1000, 1010, 1020]);
    const png = await imageToGrayPng(fs.readFileSync(imageAbsolutePath(byName['d.png'])));
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const png8 = await imageToGrayPng(fs.readFileSync(imageAbsolutePath(byName['d.png'])), 8);
    expect((await sharp(png8).metadata()).depth).toBe('uchar');
    const eight = await readGray8(imageAbsolutePath(byName['d.png']));
    expect([eight.data[0], eight.data[W * H - 1]]).toEqual([0, 255]);
    // BMP pixels come through exactly.
    const gray = await readGray8(imageAbsolutePath(byName['e.bmp']));
    expect(Array.from(gray.data)).toEqual(Array.from(texture(3)));
    const resized = await readGray8(imageAbsolutePath(byName['a.jpg']), 8);
    expect([resized.width, resized.height, resized.data.length]).toEqual([8, 8, 64]);
  });

  it('refreshes on re-import: adds, marks missing and changed, keeps corrections and reviews', async () => {
    const root = tempDir('refresh');
    await qataV2(root);
    const store = project();
    await importDataset(store, { root });
    const first = Object.fromEntries(queryImages(store.db).map((i) => [i.relPath, i]));
    const kept = first['Train Set/Images/covid_r1.png'];
    store.db
      .prepare("UPDATE images SET review_state = 'flagged', comment = 'look' WHERE id = ?")
      .run(kept.id);

    fs.rmSync(path.join(root, 'Test Set', 'Images', 'covid_e1.png'));
    await writeGrayPng(path.join(root, 'Train Set', 'Images', 'covid_r2.png'), texture(42), W, H);
    await writeGrayPng(
      path.join(root, 'Train Set', 'Ground-truths', 'mask_covid_r3.png'),
      rectMask(W, H, 5, 5, 9, 9),
      W,
      H,
    );
    await writeGrayPng(path.join(root, 'Train Set', 'Images', 'covid_r9.png'), texture(7), W, H);

    const { refresh, report } = await importDataset(store, { root });
    expect(refresh).toEqual({
      added: 1,
      unchanged: 3,
      changed: 1,
      missing: 1,
      restored: 0,
      groundTruthsUpdated: 1,
    });
    expect(report.imagesWithoutMask).toBe(1);
    const now = Object.fromEntries(queryImages(store.db).map((i) => [i.relPath, i]));
    expect(now['Test Set/Images/covid_e1.png'].status).toBe('missing');
    expect(now['Train Set/Images/covid_r2.png'].status).toBe('changed');
    expect(now['Train Set/Images/covid_r2.png'].sha256).not.toBe(
      first['Train Set/Images/covid_r2.png'].sha256,
    );
    expect(now['Train Set/Images/covid_r9.png'].status).toBe('present');
    expect(getImage(store.db, kept.id)).toMatchObject({
      reviewState: 'flagged',
      comment: 'look',
      id: kept.id,
    });
    const r3 = now['Train Set/Images/covid_r3.png'];
    expect(listRevisions(store.db, r3.id).map((r) => r.source)).toEqual([
      'ground-truth',
      'ground-truth',
    ]);
    expect(Array.from(await revisionMask(store.db, r3.groundTruthId!))).toEqual(
      Array.from(rectMask(W, H, 5, 5, 9, 9)),
    );

    // The file comes back: present again; importing twice changes nothing more.
    await writeGrayPng(path.join(root, 'Test Set', 'Images', 'covid_e1.png'), texture(1), W, H);
    const again = await importDataset(store, { root });
    expect(again.refresh).toMatchObject({
      added: 0,
      restored: 1,
      missing: 0,
      groundTruthsUpdated: 0,
    });
    expect(queryImages(store.db)).toHaveLength(6);
  });

  it('refuses a missing folder and a project inside the dataset', async () => {
    const store = project();
    await expect(importDataset(store, { root: path.join(tempDir('x'), 'nope') })).rejects.toThrow(
      /dataset folder not found/,
    );
    const root = tempDir('outer');
    const inner = ProjectStore.open(path.join(root, 'project'));
    stores.push(inner);
    await expect(importDataset(inner, { root })).rejects.toThrow(/inside the dataset folder/);
  });

  it('stops when cancelled', async () => {
    const root = tempDir('cancel');
    await qataV2(root);
    const controller = new AbortController();
    controller.abort();
    await expect(
      importDataset(project(), { root }, { progress: () => undefined, signal: controller.signal }),
    ).rejects.toThrow(/cancelled/);
  });
});
