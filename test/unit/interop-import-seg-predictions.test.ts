/**
 * `qataseg import-predictions` of DICOM SEGs made elsewhere (here by pydicom, as OHIF, 3D Slicer or
 * MONAI Label would hand them over): paired with the project's DICOM images by the SOP Instance
 * UID each frame references, whatever the file is called; a SEG of an image the project does not
 * have matches no image, a DICOM file that is not a SEG is skipped saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { queryImages } from '../../src/core/project/images';
import { latestPrediction, revisionPixels } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import type { ImportPredictionsResult } from '../../src/shared/interop-schemas';
import { gradient, tempDir, writeDicom } from './dicom-fixtures';
import { qataseg } from './interop-fixtures';
import { rectMask } from './project-fixtures';

const ROWS = 24;
const COLUMNS = 32;
const STUDY = '1.2.826.0.1.3680043.8.498.300';
const SERIES = '1.2.826.0.1.3680043.8.498.301';
const UIDS = ['1.2.826.0.1.3680043.8.498.311', '1.2.826.0.1.3680043.8.498.312'];

describe('qataseg import-predictions with DICOM SEGs', () => {
  it('pairs each SEG with the image its frame references, and says what it left out', async () => {
    const root = tempDir('qataseg-seg-predictions-');
    const images = path.join(root, 'images');
    writeDicom(
      images,
      UIDS.map((uid, i) => ({
        name: `study/CR${i + 1}.dcm`,
        rows: ROWS,
        columns: COLUMNS,
        values: gradient(ROWS, COLUMNS, 4095, i * 100),
        bitsStored: 12,
        sopInstance: uid,
        study: STUDY,
        series: SERIES,
      })),
    );
    const projectDir = path.join(root, 'project');
    const store = ProjectStore.open(projectDir);
    try {
      await importDataset(store, { root: images });
    } finally {
      store.close();
    }

    const lesion = rectMask(COLUMNS, ROWS, 4, 3, 20, 15);
    const predictions = path.join(root, 'predictions');
    writeDicom(predictions, [
      // Named as a viewer names its exports: nothing in the name points at the image.
      {
        kind: 'seg',
        name: 'Segmentation-1.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: Array.from(lesion, (v) => (v ? 1 : 0)),
        references: [UIDS[1]],
        study: STUDY,
        series: SERIES,
      },
      {
        kind: 'seg',
        name: 'of-another-study.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: new Array<number>(ROWS * COLUMNS).fill(1),
        references: ['1.2.826.0.1.3680043.8.498.999'],
      },
      {
        name: 'an-image.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: gradient(ROWS, COLUMNS, 255),
        sopInstance: '1.2.826.0.1.3680043.8.498.998',
      },
    ]);

    const run = await qataseg(
      'import-predictions',
      predictions,
      '--project',
      projectDir,
      '--name',
      'slicer',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as ImportPredictionsResult;
    expect(result.version).toBe('slicer');
    expect(result.report.pairs).toBe(1);
    expect(result.report.orphanMasks).toBe(1);
    expect(result.report.warnings).toContainEqual({
      path: 'of-another-study.dcm',
      message: 'matches no image of the project',
    });
    const notSeg = result.report.skipped.find((entry) => entry.path === 'an-image.dcm');
    expect(notSeg?.reason).toMatch(/not a DICOM SEG/);

    const opened = ProjectStore.open(projectDir);
    try {
      const [first, second] = queryImages(opened.db).sort((a, b) =>
        a.relPath.localeCompare(b.relPath),
      );
      expect(second.relPath).toBe('study/CR2.dcm');
      expect(latestPrediction(opened.db, first.id, 'slicer')).toBeNull();
      const revision = latestPrediction(opened.db, second.id, 'slicer');
      expect(revision).not.toBeNull();
      expect(await revisionPixels(opened.db, revision!.id)).toEqual(
        Uint8Array.from(lesion, (v) => (v ? 255 : 0)),
      );
      const card = JSON.parse(
        fs.readFileSync(path.join(projectDir, 'models', 'slicer', 'card.json'), 'utf8'),
      ) as { source: { formats: Record<string, number> } };
      expect(card.source.formats).toEqual({ 'dicom-seg': 1 });
    } finally {
      opened.close();
    }
  }, 120_000);
});
