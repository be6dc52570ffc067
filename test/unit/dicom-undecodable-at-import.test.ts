/**
 * Compressed DICOMs whose pixel data do not decode (garbage JPEG lossless, a truncated SOF, a
 * failing JPEG-LS or JPEG 2000 stream) are listed in the import report's `skipped` with a reason
 * in words, as the README promises. They used to be imported from their header and fail later
 * (404; for JPEG-LS the reason was "undefined"). The files are built byte by byte
 * (test/faults/hostile-files.ts); an ordinary deflated file beside them is imported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { queryImages } from '../../src/core/project/images';
import { ProjectStore } from '../../src/core/project/store';
import { deflatedDicom, encapsulatedDicom } from '../faults/hostile-files';
import { tempDir } from './project-fixtures';

const SIZE = 16;
const garbage = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256));
// SOI, then a baseline SOF0 that says 16 bytes follow and stops after 4 of them.
const truncatedSof = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00]);

describe('DICOM import decodes compressed pixel data', () => {
  it('skips compressed DICOMs whose pixel data do not decode, each with a reason', async () => {
    const root = tempDir('undecodable');
    const files: Record<string, Buffer> = {
      'jpeg-lossless.dcm': encapsulatedDicom('1.2.5.1', SIZE, '1.2.840.10008.1.2.4.70', garbage),
      'truncated-sof.dcm': encapsulatedDicom(
        '1.2.5.2',
        SIZE,
        '1.2.840.10008.1.2.4.50',
        truncatedSof,
      ),
      'jpeg-ls.dcm': encapsulatedDicom('1.2.5.3', SIZE, '1.2.840.10008.1.2.4.80', garbage),
      'jpeg-2000.dcm': encapsulatedDicom('1.2.5.4', SIZE, '1.2.840.10008.1.2.4.90', garbage),
      'ordinary.dcm': await deflatedDicom('1.2.5.5', SIZE, 0),
    };
    for (const [name, bytes] of Object.entries(files))
      fs.writeFileSync(path.join(root, name), bytes);
    const store = ProjectStore.open(tempDir('undecodable-project'));
    try {
      const { report } = await importDataset(store, { root });
      const reasons = new Map(report.skipped.map((entry) => [entry.path, entry.reason]));
      for (const name of Object.keys(files).filter((file) => file !== 'ordinary.dcm')) {
        const reason = reasons.get(name);
        expect(reason, `${name} skipped`).toBeDefined();
        expect(reason, name).not.toMatch(/undefined|^\d+$/);
        expect(reason, name).toMatch(/pixel data/);
      }
      expect(queryImages(store.db).map((image) => image.relPath)).toEqual(['ordinary.dcm']);
    } finally {
      store.close();
    }
  });
});
