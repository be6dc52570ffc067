/**
 * The export's safety rules, each on real files: no overwrite without `overwrite` (refused up
 * front, first conflicts listed, nothing written), temporary name then rename, output inside a
 * dataset refused, names from the database cannot leave OUT, a full disk or an unwritable folder
 * stops with a message saying what was written. Plus `export.start` as a job with cancel.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import {
  ExportRefusedError,
  ExportStoppedError,
  exportMasks,
  nodeIo,
  writeFileDurably,
  type ExportIo,
} from '../../src/core/export/exporter';
import { isInside } from '../../src/core/formats/names';
import { MANIFEST_COLUMNS, csvText, parseCsv } from '../../src/core/export/manifest';
import { insertImage } from '../../src/core/project/datasets';
import { savePrediction, setGroundTruth } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';
import { ProjectStore } from '../../src/core/project/store';
import { projectWithImages, rectMask, tempDir, writeGrayPng } from './project-fixtures';

const W = 32;
const H = 24;
const stores: ProjectStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function project(count = 6) {
  const fixture = await projectWithImages(
    Array.from({ length: count }, (_, i) => ({
      name: `img_${i}.png`,
      split: 'train' as const,
      gt: rectMask(W, H, i, i, i + 8, i + 6),
    })),
    W,
    H,
  );
  stores.push(fixture.store);
  return fixture;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) =>
      path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
    )
    .sort();
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

describe('export safety', () => {
  it('refuses to replace files without overwrite, lists them, and writes nothing', async () => {
    const { store } = await project();
    const out = tempDir('export-out');
    fs.mkdirSync(path.join(out, 'Ground-truths'));
    fs.writeFileSync(path.join(out, 'Ground-truths', 'mask_img_3.png'), 'keep me');
    fs.writeFileSync(path.join(out, 'manifest.csv'), 'keep me too');
    const refusal = exportMasks(store, { out });
    await expect(refusal).rejects.toThrow(ExportRefusedError);
    await expect(refusal).rejects.toThrow(
      /2 file\(s\) already exist.*Ground-truths\/mask_img_3\.png, manifest\.csv.*--overwrite/,
    );
    expect(filesUnder(out)).toEqual(['Ground-truths/mask_img_3.png', 'manifest.csv']);
    expect(fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8')).toBe('keep me too');

    const result = await exportMasks(store, { out, overwrite: true });
    expect(result.masks).toBe(6);
    expect(
      fs
        .readFileSync(path.join(out, 'Ground-truths', 'mask_img_3.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('writes every file under a temporary name and renames it into place', async () => {
    const { store } = await project(3);
    const out = tempDir('export-out');
    const steps: string[] = [];
    const io: ExportIo = {
      ...nodeIo,
      writeFile: async (file, data) => {
        steps.push(`write ${path.basename(file)}`);
        await nodeIo.writeFile(file, data);
      },
      rename: async (from, to) => {
        expect(fs.existsSync(to)).toBe(false);
        steps.push(`rename ${path.basename(from)} -> ${path.basename(to)}`);
        await nodeIo.rename(from, to);
      },
    };
    const result = await exportMasks(store, { out }, undefined, { io, concurrency: 1 });
    expect(steps).toHaveLength(2 * result.files.length);
    for (let i = 0; i < steps.length; i += 2) {
      const written = /^write (\..+\.tmp)$/.exec(steps[i]);
      expect(written, steps[i]).not.toBeNull();
      expect(steps[i + 1]).toMatch(
        new RegExp(`^rename ${written![1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -> [^.]`),
      );
    }
    expect(filesUnder(out).some((file) => file.endsWith('.tmp'))).toBe(false);
  });

  it('fsyncs each file before its rename, and each folder before the manifest names its files', async () => {
    const { store } = await project(3);
    const out = path.join(tempDir('export-durable'), 'out');
    const steps: string[] = [];
    const relative = (file: string) => path.relative(out, file).split(path.sep).join('/') || '.';
    // What a FileHandle is open on: Linux names it in /proc; the test reads it there.
    const pathOf = (handle: FileHandle) => fs.readlinkSync(`/proc/self/fd/${handle.fd}`);
    const probe = await fs.promises.open(path.join(tempDir('export-probe'), 'p'), 'w');
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const sync = prototype.sync; // eslint-disable-line @typescript-eslint/unbound-method -- called with its handle below
    const spy = vi.spyOn(prototype, 'sync').mockImplementation(async function (this: FileHandle) {
      steps.push(`sync ${relative(pathOf(this))}`);
      return sync.call(this);
    });
    try {
      const io: ExportIo = {
        ...nodeIo,
        writeFile: async (file, data) => {
          steps.push(`write ${relative(file)}`);
          await nodeIo.writeFile(file, data);
        },
        rename: async (from, to) => {
          steps.push(`rename ${relative(from)} -> ${relative(to)}`);
          await nodeIo.rename(from, to);
        },
      };
      const result = await exportMasks(store, { out }, undefined, { io, concurrency: 1 });
      expect(result.files).toHaveLength(4);
      // Every file: written under its temporary name, fsynced, then renamed.
      for (const file of result.files) {
        const rename = steps.findIndex((step) => step.endsWith(` -> ${file}`));
        const temporary = /^rename (\S+) ->/.exec(steps[rename])![1];
        expect(steps.slice(rename - 2, rename), file).toEqual([
          `write ${temporary}`,
          `sync ${temporary}`,
        ]);
      }
      // The folders are fsynced after their files' renames and before the manifest is written;
      // OUT once more after the manifest's rename.
      const manifestWrite = steps.findIndex((step) => /^write \S*manifest\.csv/.test(step));
      const lastMaskRename = steps.findLastIndex((step) => / -> Ground-truths\//.test(step));
      const folderSyncs = steps.slice(lastMaskRename + 1, manifestWrite);
      expect(folderSyncs.sort()).toEqual(['sync .', 'sync Ground-truths']);
      expect(steps.at(-2)).toBe(
        'rename ' + steps.at(-3)!.slice('sync '.length) + ' -> manifest.csv',
      );
      expect(steps.at(-1)).toBe('sync .');
    } finally {
      spy.mockRestore();
    }
    // The write helper on its own: the bytes are there, the handle was fsynced.
    const file = path.join(tempDir('export-durable'), 'x.bin');
    const synced: string[] = [];
    const helperSpy = vi.spyOn(prototype, 'sync').mockImplementation(async function (
      this: FileHandle,
    ) {
      synced.push(pathOf(this));
      return sync.call(this);
    });
    try {
      await writeFileDurably(file, 'durable bytes');
    } finally {
      helperSpy.mockRestore();
    }
    expect(synced).toEqual([fs.realpathSync(file)]);
    expect(fs.readFileSync(file, 'utf8')).toBe('durable bytes');
    await expect(writeFileDurably(file, 'again')).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('guards manifest cells a spreadsheet would run as formulas (file names from the dataset)', async () => {
    // A flat folder of images whose names begin with formula characters, masks beside them.
    const root = tempDir('export-formula-dataset');
    const names = ['=1+2.png', '@SUM(A1).png', '-3.png', '+cmd.png', 'plain.png'];
    for (const [index, name] of names.entries()) {
      const stem = name.slice(0, -'.png'.length);
      const pixels = new Uint8Array(W * H).map((_, i) => (i + index * 17) % 256);
      await writeGrayPng(path.join(root, name), pixels, W, H);
      await writeGrayPng(path.join(root, `${stem}_mask.png`), rectMask(W, H, 2, 2, 9, 7), W, H);
    }
    const store = ProjectStore.open(tempDir('export-formula-project'));
    stores.push(store);
    const imported = await importDataset(store, { root, maskPattern: '{stem}_mask.png' });
    expect(imported.report.pairs).toBe(names.length);

    const out = path.join(tempDir('export-formula'), 'out');
    const result = await exportMasks(store, { out, copyImages: true });
    expect(result.masks).toBe(names.length);
    const text = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8');
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...MANIFEST_COLUMNS]);
    const column = (name: (typeof MANIFEST_COLUMNS)[number]) => header.indexOf(name);
    const formula = /^[=+\-@\t\r]/;
    for (const row of rows) {
      // No text cell starts with a formula character as a spreadsheet reads it.
      for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(formula);
      expect(Number(row[column('foreground_pixels')])).toBe(7 * 5);
      expect(Number(row[column('dice')])).toBe(1);
    }
    // The guard is a leading quote inside RFC 4180 quotes, and reading it back gives the names.
    expect(text).toContain(`"'=1+2.png"`);
    expect(text).toContain(`"'@SUM(A1).png"`);
    const images = rows.map((row) => csvText(row[column('image')])).sort();
    expect(images).toEqual([...names].sort());
    const copied = rows.map((row) => csvText(row[column('image_file')]));
    for (const file of copied) expect(fs.existsSync(path.join(out, file)), file).toBe(true);
    expect(copied).toContain('Images/=1+2.png');
    expect(rows.find((row) => row[column('image')] === 'plain.png')).toBeDefined();
  });

  it('refuses an output folder inside a dataset folder, also through a symlink', async () => {
    const { store, root } = await project(2);
    await expect(exportMasks(store, { out: path.join(root, 'exports') })).rejects.toThrow(
      /inside the dataset folder/,
    );
    const link = path.join(tempDir('export-link'), 'to-dataset');
    fs.symlinkSync(root, link);
    await expect(exportMasks(store, { out: path.join(link, 'x', 'y') })).rejects.toThrow(
      /inside the dataset folder/,
    );
    await expect(exportMasks(store, { out: path.join(store.dir, 'out') })).rejects.toThrow(
      /overlaps the project folder/,
    );
    expect(fs.existsSync(path.join(root, 'exports'))).toBe(false);
  });

  it('sanitises names from the database so nothing leaves OUT', async () => {
    const { store } = await project(1);
    const datasetId = (store.db.prepare('SELECT id FROM datasets').get() as { id: number }).id;
    const hostile = [
      '../../../escape/Images/up.png',
      'Images/..\\..\\win.png',
      '/etc/Images/abs.png',
      'Images/con.png',
      'a:b|c?/Images/odd*name .png',
      'Images/trailing. ',
      'nul/Images/n.png',
    ];
    for (const [index, relPath] of hostile.entries()) {
      const id = insertImage(store.db, {
        datasetId,
        relPath,
        name: path.basename(relPath),
        split: 'train',
        width: W,
        height: H,
        bitDepth: 8,
        channels: 1,
        format: 'png',
        fileSize: 1,
        sha256: `hostile-${index}`,
      });
      const mask = rectMask(W, H, 1, 1, 5, 5);
      setGroundTruth(store.db, id, {
        png: await encodeGray8(mask, W, H),
        width: W,
        height: H,
        foreground: 16,
        sha256: null,
      });
    }
    const base = tempDir('export-hostile');
    const out = path.join(base, 'out');
    const result = await exportMasks(store, { out });
    expect(result.masks).toBe(1 + hostile.length);
    // Nothing outside OUT: the parent holds only OUT.
    expect(fs.readdirSync(base)).toEqual(['out']);
    const files = filesUnder(out);
    expect(files).toHaveLength(result.files.length);
    for (const file of files) expect(isInside(path.join(out, file), out)).toBe(true);
    expect(files).toContain('_/_/_/escape/Ground-truths/mask_up.png');
    expect(files).toContain('Ground-truths/mask_con.png');
    expect(files).toContain('_nul/Ground-truths/mask_n.png');
    expect(files).toContain('Images/_/_/Ground-truths/mask_win.png');
    expect(files).toContain('a_b_c_/Ground-truths/mask_odd_name .png');
    expect(files.join('\n')).not.toMatch(/[:|?*\\]/);
  });

  it('refuses two images that would write the same file', async () => {
    const { store } = await project(1);
    const datasetId = (store.db.prepare('SELECT id FROM datasets').get() as { id: number }).id;
    const id = insertImage(store.db, {
      datasetId,
      relPath: 'Images/IMG_0.jpg',
      name: 'IMG_0.jpg',
      split: 'train',
      width: W,
      height: H,
      bitDepth: 8,
      channels: 1,
      format: 'jpeg',
      fileSize: 1,
      sha256: 'same-stem',
    });
    setGroundTruth(store.db, id, {
      png: await encodeGray8(new Uint8Array(W * H), W, H),
      width: W,
      height: H,
      foreground: 0,
      sha256: null,
    });
    const out = path.join(tempDir('export-collide'), 'out');
    await expect(exportMasks(store, { out })).rejects.toThrow(
      /Images\/img_0\.png and Images\/IMG_0\.jpg both export to Ground-truths\/mask_IMG_0\.png/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('stops on a full disk, says what was written, and the manifest lists exactly those files', async () => {
    const { store } = await project(6);
    const out = path.join(tempDir('export-full'), 'out');
    let masks = 0;
    const io: ExportIo = {
      ...nodeIo,
      writeFile: async (file, data) => {
        // The disk fills after three masks; the small manifest still fits.
        if (!file.includes('manifest') && ++masks > 3) throw enospc();
        await nodeIo.writeFile(file, data);
      },
    };
    const error = await exportMasks(store, { out }, undefined, { io, concurrency: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExportStoppedError);
    const stopped = error as ExportStoppedError;
    expect(stopped.message).toMatch(/the disk is full \(ENOSPC\)/);
    expect(stopped.message).toMatch(/3 file\(s\) were written before the stop: .*mask_img_0\.png/);
    expect(stopped.message).toMatch(/listed in .*manifest\.csv/);
    const onDisk = filesUnder(out);
    expect(onDisk.some((file) => file.endsWith('.tmp'))).toBe(false);
    const [, ...rows] = parseCsv(fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8'));
    expect(rows.map((row) => row[1]).sort()).toEqual(onDisk.filter((f) => f !== 'manifest.csv'));
    expect(rows).toHaveLength(3);

    // Completely full: not even the manifest fits, and the message says so.
    const out2 = path.join(tempDir('export-full'), 'out');
    let writes = 0;
    const full: ExportIo = {
      ...nodeIo,
      writeFile: async (file, data) => {
        if (++writes > 2) throw enospc();
        await nodeIo.writeFile(file, data);
      },
    };
    await expect(
      exportMasks(store, { out: out2 }, undefined, { io: full, concurrency: 1 }),
    ).rejects.toThrow(/2 file\(s\) were written.*the manifest could not be written either/);
  });

  it('stops with a clear message when a folder cannot be created', async () => {
    const { store } = await project(2);
    const out = path.join(tempDir('export-blocked'), 'out');
    fs.mkdirSync(out);
    // A file where the Ground-truths folder must go: a real, unwritable destination.
    fs.writeFileSync(path.join(out, 'Ground-truths'), 'not a folder');
    await expect(exportMasks(store, { out })).rejects.toThrow(
      /export stopped: a file stands where a folder is needed \((EEXIST|ENOTDIR)\).*nothing was written/,
    );
    expect(filesUnder(out)).toEqual(['Ground-truths']);
  });
});

describe('export.start and export.plan', () => {
  it('run as a job with progress, refuse conflicts up front, and obey jobs.cancel', async () => {
    const { dir, store } = await project(40);
    store.close();
    const service = new Service({ transport: 'http', projectDir: dir });
    try {
      const updates: Job[] = [];
      service.subscribe((event, payload) => {
        if (event === 'job.updated') updates.push(payload as Job);
      });
      const out = path.join(tempDir('export-job'), 'out');
      const plan = await service.invoke('export.plan', { out });
      expect(plan).toMatchObject({ masks: 40, conflictCount: 0, skipped: [] });

      const job = await service.invoke('export.start', { out });
      expect(job.kind).toBe('export');
      const result = (await service.jobs.wait(job.id)) as { masks: number };
      expect(result.masks).toBe(40);
      const final = service.jobs.get(job.id);
      expect(final.state).toBe('succeeded');
      expect(final.done).toBe(40);
      expect(updates.some((u) => u.id === job.id && u.total === 40)).toBe(true);

      const replan = await service.invoke('export.plan', { out });
      expect(replan.conflictCount).toBe(41);
      await expect(service.invoke('export.start', { out })).rejects.toMatchObject({
        code: 'conflict',
      });

      const out2 = path.join(tempDir('export-job'), 'out');
      const cancelled = await service.invoke('export.start', { out: out2 });
      service.jobs.cancel(cancelled.id);
      await service.jobs.wait(cancelled.id).catch(() => undefined);
      const state = service.jobs.get(cancelled.id);
      expect(state.state).toBe('cancelled');
      expect(state.error).toMatch(/export cancelled after \d+ of 40 masks/);
      // Whatever was written before the cancel is in the manifest, and nothing else is on disk.
      const onDisk = filesUnder(out2).filter((file) => file !== 'manifest.csv');
      expect(onDisk.length).toBeLessThan(40);
      if (fs.existsSync(path.join(out2, 'manifest.csv'))) {
        const [, ...rows] = parseCsv(fs.readFileSync(path.join(out2, 'manifest.csv'), 'utf8'));
        expect(rows.map((row) => row[1]).sort()).toEqual(onDisk);
      } else expect(onDisk).toEqual([]);
    } finally {
      service.close();
    }
  });
});

describe('export sources', () => {
  it('best falls back to the prediction; predicted needs a model with predictions', async () => {
    const { store, ids } = await project(3);
    // Image 0 loses its ground truth: only a prediction is left for it.
    store.db.prepare('UPDATE images SET ground_truth_id = NULL WHERE id = ?').run(ids[0]);
    const out = path.join(tempDir('export-sources'), 'out');
    await expect(exportMasks(store, { out, source: 'predicted' })).rejects.toThrow(
      /no model version/,
    );
    await expect(exportMasks(store, { out, source: 'predicted', model: 'v9' })).rejects.toThrow(
      /v9 has no predictions/,
    );
    const probabilities = new Uint8Array(W * H).map((_, i) => (i % W < 10 ? 200 : 20));
    await savePrediction(store.db, ids[0], 'v9', probabilities);
    store.setMeta(ACTIVE_MODEL_KEY, 'v9');

    const best = await exportMasks(store, { out });
    expect(best.masks).toBe(3);
    const [, ...rows] = parseCsv(fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8'));
    const predicted = rows.find((row) => row[0] === 'Images/img_0.png')!;
    expect(predicted.slice(2, 4)).toEqual(['prediction', 'v9']);
    expect(predicted[6]).toBe(''); // no ground truth: no Dice
    expect(Number(predicted[7])).toBe(10 * H);

    const corrected = await exportMasks(store, {
      out: path.join(tempDir('export-sources'), 'out'),
      source: 'corrected',
    });
    expect(corrected.masks).toBe(0);
    expect(corrected.skipped).toHaveLength(3);
    expect(corrected.skipped[0].reason).toBe('no correction');
  });
});

/** A real full file system where the machine allows mounting one (root on Linux). */
function mountTinyTmpfs(dir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('export on a really full disk', () => {
  const mountPoint = tempDir('export-tmpfs');
  const mounted = mountTinyTmpfs(mountPoint);
  afterAll(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
  });

  it.skipIf(!mounted)('stops with ENOSPC on a 64 KiB tmpfs and lists what it wrote', async () => {
    const { store } = await project(60);
    const out = path.join(mountPoint, 'out');
    const error = await exportMasks(store, { out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportStoppedError);
    const stopped = error as ExportStoppedError;
    expect(stopped.message).toMatch(/the disk is full \(ENOSPC\)/);
    expect(stopped.written.length).toBeGreaterThan(0);
    expect(stopped.written.length).toBeLessThan(60);
    const onDisk = filesUnder(out);
    expect(onDisk.some((file) => file.includes('.tmp'))).toBe(false);
    for (const file of stopped.written) expect(onDisk).toContain(file);
  });
});
