/**
 * An export never writes into, or around, data that is not its own: an output folder that is, is
 * inside, or contains an imported dataset or the project is refused before anything is written,
 * for every format, with or without overwrite (core and the real `qataseg export`, exit 2).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { ExportRefusedError, exportMasks } from '../../src/core/export/exporter';
import { ProjectStore } from '../../src/core/project/store';
import { exportFormatSchema } from '../../src/shared/export-schemas';
import { treeHash } from '../faults/tree-hash';
import { rectMask, tempDir, writeGrayPng } from './project-fixtures';

const W = 24;
const H = 16;

async function qataDataset(root: string, count: number) {
  for (let i = 0; i < count; i++) {
    const pixels = new Uint8Array(W * H).map((_, p) => (p * 5 + i * 31) % 256);
    await writeGrayPng(path.join(root, 'Images', `case_${i}.png`), pixels, W, H);
    await writeGrayPng(
      path.join(root, 'Ground-truths', `mask_case_${i}.png`),
      rectMask(W, H, i, i, i + 8, i + 6),
      W,
      H,
    );
  }
}

let base: string;
let parent: string;
let store: ProjectStore;

beforeAll(async () => {
  base = tempDir('never-into-data');
  parent = path.join(base, 'x');
  await qataDataset(path.join(parent, 'A'), 2);
  await qataDataset(path.join(parent, 'B'), 2);
  store = ProjectStore.open(path.join(base, 'projects', 'p'));
  await importDataset(store, { root: path.join(parent, 'A') });
  await importDataset(store, { root: path.join(parent, 'B') });
});

afterAll(() => {
  store.close();
  fs.rmSync(base, { recursive: true, force: true });
});

describe('an export never writes into data that is not its own', () => {
  it('refuses an output folder that contains imported datasets, for every format, with or without overwrite', async () => {
    const before = treeHash(parent);
    for (const format of exportFormatSchema.options) {
      for (const overwrite of [false, true]) {
        // nnunet's dataset id and name are given, so only the output folder is wrong.
        const attempt = exportMasks(store, {
          out: parent,
          format,
          overwrite,
          datasetId: 1,
          datasetName: 'QaTa',
        });
        await expect(attempt, `${format} overwrite=${overwrite}`).rejects.toThrow(
          ExportRefusedError,
        );
        await expect(attempt).rejects.toThrow(/contains the dataset folder .*A/);
        expect(treeHash(parent), `${format} overwrite=${overwrite}`).toBe(before);
      }
    }
  });

  it('refuses an output folder that contains the project, even reached through a symlink', async () => {
    const link = path.join(tempDir('project-link'), 'linked');
    fs.symlinkSync(store.dir, link);
    const linked = ProjectStore.open(link);
    try {
      const before = treeHash(store.dir);
      for (const out of [
        path.dirname(store.dir),
        store.dir,
        path.join(store.dir, 'models', 'out'),
      ]) {
        await expect(exportMasks(linked, { out, overwrite: true }), out).rejects.toThrow(
          /overlaps the project folder/,
        );
      }
      expect(treeHash(store.dir)).toBe(before);
    } finally {
      linked.close();
    }
  });

  it('qataseg export --out PARENT --overwrite exits 2 and changes nothing in either dataset', async () => {
    const before = treeHash(parent);
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
    const run = promisify(execFile);
    for (const format of ['png', 'overlay']) {
      const failed = await run(process.execPath, [
        bin,
        'export',
        '--project',
        store.dir,
        '--out',
        parent,
        '--format',
        format,
        '--overwrite',
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed.code, format).toBe(2);
      expect(failed.stderr).toMatch(/contains the dataset folder/);
    }
    expect(treeHash(parent)).toBe(before);
  });
});
