/**
 * Conflicts are checked again when each file is written: a file that appears at an output path
 * after the export was planned is never replaced without overwrite (the temporary file is linked
 * into place, which fails on an existing name, instead of renamed over it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ExportStoppedError,
  nodeIo,
  planExport,
  runExport,
  type ExportIo,
} from '../../src/core/export/exporter';
import type { ProjectStore } from '../../src/core/project/store';
import { projectWithImages, rectMask, tempDir } from './project-fixtures';

const W = 32;
const H = 24;
const stores: ProjectStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function project(count: number) {
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
  return fixture.store;
}

describe('export conflicts at write time', () => {
  it('never replaces a file created after the plan, and stops saying which', async () => {
    const store = await project(4);
    const out = tempDir('late-conflict');
    const plan = await planExport(store, { out });
    expect(plan.conflicts).toEqual([]);
    const late = path.join(out, 'Ground-truths', 'mask_img_2.png');
    fs.mkdirSync(path.dirname(late), { recursive: true });
    fs.writeFileSync(late, 'written by someone else after the plan');

    const run = runExport(store, plan, undefined, { concurrency: 1 });
    await expect(run).rejects.toThrow(ExportStoppedError);
    await expect(run).rejects.toThrow(
      /Ground-truths\/mask_img_2\.png.*after the export was planned/,
    );
    expect(fs.readFileSync(late, 'utf8')).toBe('written by someone else after the plan');
    const leftovers = fs.readdirSync(path.dirname(late)).filter((name) => name.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  it('a file that appears while the export runs is not replaced either', async () => {
    const store = await project(3);
    const out = tempDir('racing-conflict');
    const plan = await planExport(store, { out });
    const target = path.join(out, 'Ground-truths', 'mask_img_1.png');
    // Another program writes the file between our temporary write and its move into place.
    const io: ExportIo = {
      ...nodeIo,
      writeFile: async (file, data) => {
        await nodeIo.writeFile(file, data);
        if (path.basename(file).startsWith('.mask_img_1.png.')) fs.writeFileSync(target, 'theirs');
      },
    };
    await expect(runExport(store, plan, undefined, { io, concurrency: 1 })).rejects.toThrow(
      /mask_img_1\.png.*not replaced/,
    );
    expect(fs.readFileSync(target, 'utf8')).toBe('theirs');
  });

  it('with overwrite, a file created after the plan is replaced', async () => {
    const store = await project(2);
    const out = tempDir('late-overwrite');
    const plan = await planExport(store, { out, overwrite: true });
    const late = path.join(out, 'manifest.csv');
    fs.writeFileSync(late, 'old');
    const result = await runExport(store, plan);
    expect(result.files).toContain('manifest.csv');
    expect(fs.readFileSync(late, 'utf8')).toMatch(/^image,mask_file/);
  });
});
