/**
 * A DICOM folder without masks: the warning counts the images imported (not every file found),
 * never offers an image's own name as its mask name, and says that a DICOM SEG referencing the
 * image is ground truth too. Files from pydicom's published test set (written by other toolkits).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { ProjectStore } from '../../src/core/project/store';
import { tempDir } from './project-fixtures';

const CORPUS = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

describe.skipIf(!fs.existsSync(CORPUS))('an import of DICOM files that pairs nothing', () => {
  it('counts what it imported, names the SEG route, and never the image as its own mask', async () => {
    const root = tempDir('dicom-no-masks');
    for (const file of ['CT_small.dcm', 'MR_small.dcm', 'rtstruct.dcm', 'rtplan.dcm'])
      fs.copyFileSync(path.join(CORPUS, file), path.join(root, file));
    const store = ProjectStore.open(tempDir('dicom-no-masks-project'));
    stores.push(store);
    const result = await importDataset(store, { root });
    expect(result.report.pairs).toBe(0);
    expect(result.report.imagesWithoutMask).toBe(2);
    expect(result.report.skipped).toHaveLength(2);
    const warning = result.report.warnings.find((w) => w.path === '.')!.message;
    expect(warning).toMatch(/imported 2 images/);
    expect(warning).toMatch(/2 other files skipped/);
    expect(warning).not.toMatch(/found 4/);
    expect(warning).toMatch(/DICOM SEG/);
    const candidates = /\(for [^:]+: ([^;)]*)/.exec(warning)![1].split(' or ');
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates).not.toContain('CT_small.dcm');
    expect(candidates).not.toContain('MR_small.dcm');
  });
});
