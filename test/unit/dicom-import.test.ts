import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { readGray8, imageToGrayPng } from '../../src/core/dataset/decode';
import { decodeGray8Png } from '../../src/core/dataset/png';
import { importDataset } from '../../src/core/dataset/import';
import { dicomTagsOf } from '../../src/core/project/dicom-tags';
import { listImages, queryImages } from '../../src/core/project/images';
import { imageDetail, imageDisplay } from '../../src/core/project/review';
import { listRevisions, revisionMask } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import { rectMask, writeGrayPng } from './project-fixtures';
import { dcmtk, gradient, tempDir, writeDicom } from './dicom-fixtures';

const ROWS = 40;
const COLUMNS = 56;
const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function project(): ProjectStore {
  const store = ProjectStore.open(tempDir('qataseg-dicom-project-'));
  stores.push(store);
  return store;
}

const UID = {
  study: '1.2.826.0.1.3680043.8.498.1',
  series: '1.2.826.0.1.3680043.8.498.2',
  im1: '1.2.826.0.1.3680043.8.498.11',
  im2: '1.2.826.0.1.3680043.8.498.12',
  im3: '1.2.826.0.1.3680043.8.498.13',
};

/** A nested folder of studies as a PACS export lays it out, with everything that goes wrong. */
function studies(root: string) {
  const stored = gradient(ROWS, COLUMNS, 4095);
  const lesion = Int32Array.from({ length: ROWS * COLUMNS }, (_, i) =>
    i % COLUMNS > 10 && i % COLUMNS < 30 && i / COLUMNS > 5 && i / COLUMNS < 20 ? 1 : 0,
  );
  const common = {
    rows: ROWS,
    columns: COLUMNS,
    values: stored,
    bitsStored: 12,
    study: UID.study,
    series: UID.series,
  };
  writeDicom(root, [
    {
      ...common,
      name: 'P1/ST1/SE1/IM1',
      sopInstance: UID.im1,
      photometric: 'MONOCHROME1',
      tags: {
        PatientID: 'PAT-1',
        PatientName: 'Doe^Jane',
        StudyDate: '20240105',
        ViewPosition: 'PA',
        PixelSpacing: ['0.5', '0.25'],
      },
    },
    { ...common, name: 'work/IM2.dcm', sopInstance: UID.im2, tags: { PatientID: 'PAT-2' } },
    { ...common, name: 'work/IM3.dcm', sopInstance: UID.im3, tags: { PatientID: 'PAT-3' } },
    { ...common, name: 'P2/multi.dcm', values: new Int32Array(ROWS * COLUMNS * 2), frames: 2 },
    {
      ...common,
      name: 'P2/rgb.dcm',
      // Real colour (red): an RGB whose samples are equal is a grayscale image and imports.
      values: Int32Array.from({ length: ROWS * COLUMNS * 3 }, (_, i) => (i % 3 === 0 ? 200 : 0)),
      samples: 3,
      photometric: 'RGB',
      bitsAllocated: 8,
      bitsStored: 8,
    },
    {
      kind: 'seg',
      name: 'P1/ST1/SEG/seg1.dcm',
      rows: ROWS,
      columns: COLUMNS,
      values: lesion,
      references: [UID.im1],
    },
    {
      kind: 'seg',
      name: 'P3/orphan.dcm',
      rows: ROWS,
      columns: COLUMNS,
      values: lesion,
      references: ['1.2.3.4.5.6.7'],
    },
  ]);
  // Transcoded by dcmtk: JPEG lossless (the usual CR/DX), JPEG-LS, a 12-bit JPEG extended.
  const work = path.join(root, 'work');
  dcmtk('dcmcjpeg', ['+e1'], path.join(work, 'IM2.dcm'), path.join(root, 'P1/ST1/SE1/IM2.dcm'));
  dcmtk('dcmcjpls', [], path.join(work, 'IM3.dcm'), path.join(root, 'P1/ST1/SE1/IM3'));
  dcmtk('dcmcjpeg', ['+ee'], path.join(work, 'IM3.dcm'), path.join(root, 'P2/extended.dcm'));
  fs.rmSync(work, { recursive: true });
  const whole = fs.readFileSync(path.join(root, 'P1/ST1/SE1/IM1'));
  fs.writeFileSync(path.join(root, 'P2/truncated.dcm'), whole.subarray(0, whole.length - 1000));
  return { stored, lesion };
}

describe('DICOM import (fixtures by pydicom and dcmtk)', () => {
  it('imports a nested study folder: images, SEG ground truth by SOP Instance UID, mask files, orphans and skipped files with reasons', async () => {
    const root = tempDir();
    const { stored, lesion } = studies(root);
    await writeGrayPng(
      path.join(root, 'P1/ST1/SE1/mask_IM2.png'),
      rectMask(COLUMNS, ROWS, 2, 2, 6, 5),
      COLUMNS,
      ROWS,
    );
    const store = project();
    const result = await importDataset(store, { root });
    const { report } = result;
    const byPath = new Map(queryImages(store.db).map((image) => [image.relPath, image]));
    expect([...byPath.keys()].sort()).toEqual([
      'P1/ST1/SE1/IM1',
      'P1/ST1/SE1/IM2.dcm',
      'P1/ST1/SE1/IM3',
      'P2/extended.dcm',
    ]);
    const reasons = new Map(report.skipped.map((s) => [s.path, s.reason]));
    expect(reasons.get('P2/multi.dcm')).toMatch(/Image of 2 frames: only single-frame/);
    expect(reasons.get('P2/rgb.dcm')).toMatch(/in colour \(RGB, 3 samples/);
    expect(reasons.get('P2/truncated.dcm')).toMatch(/truncated/);
    expect(report.pairs).toBe(2);
    expect(report.imagesWithoutMask).toBe(2);
    expect(report.orphanMasks).toBe(1);
    expect(report.warnings.map((w) => w.path)).toContain('P3/orphan.dcm');

    const im1 = byPath.get('P1/ST1/SE1/IM1')!;
    expect(im1).toMatchObject({ format: 'dicom', bitDepth: 16, width: COLUMNS, height: ROWS });
    expect(dicomTagsOf(store.db, im1.id)).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
      sopInstanceUid: UID.im1,
      studyInstanceUid: UID.study,
      seriesInstanceUid: UID.series,
      patientId: 'PAT-1',
      studyDate: '2024-01-05',
      modality: 'CR',
      viewPosition: 'PA',
      rowSpacing: 0.5,
      columnSpacing: 0.25,
    });
    // No patient name, no other header field: only the columns above exist.
    const columns = store.db
      .prepare('SELECT name FROM pragma_table_info(?)')
      .all('dicom_images') as { name: string }[];
    expect(columns.map((c) => c.name)).not.toContain('patient_name');

    const truth = await revisionMask(store.db, im1.groundTruthId!);
    expect(Array.from(truth, (v) => (v ? 1 : 0))).toEqual(Array.from(lesion));

    // The image route keeps the full range; training sees the default VOI, MONOCHROME1 inverted.
    const full = await imageToGrayPng(fs.readFileSync(path.join(root, 'P1/ST1/SE1/IM1')));
    expect(full[24]).toBe(16);
    const { data: served } = await sharp(full)
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    expect(
      Array.from(new Uint16Array(served.buffer, served.byteOffset, served.length / 2)),
    ).toEqual(Array.from(stored));
    const eight = await readGray8(path.join(root, 'P1/ST1/SE1/IM1'));
    const darkest = stored.indexOf(Math.max(...stored));
    expect(eight.data[darkest]).toBe(0);
    expect(eight.data[stored.indexOf(0)]).toBe(255);
    // JPEG lossless and JPEG-LS decode to the same 8-bit pixels as the uncompressed original.
    const im2 = await readGray8(path.join(root, 'P1/ST1/SE1/IM2.dcm'));
    const im3 = await readGray8(path.join(root, 'P1/ST1/SE1/IM3'));
    expect(Array.from(im3.data)).toEqual(Array.from(im2.data));
    expect(
      decodeGray8Png(await imageToGrayPng(fs.readFileSync(path.join(root, 'P1/ST1/SE1/IM3')), 8))!
        .data,
    ).toEqual(im3.data);

    // A re-import changes nothing: no new ground-truth revision from the unchanged SEG.
    const again = await importDataset(store, { root });
    expect(again.refresh).toMatchObject({ added: 0, unchanged: 4, groundTruthsUpdated: 0 });
    expect(again.report.pairs).toBe(2);
    expect(listRevisions(store.db, im1.id)).toHaveLength(1);

    // The SEG gone: its ground truth leaves force (kept in the history).
    fs.rmSync(path.join(root, 'P1/ST1/SEG/seg1.dcm'));
    const third = await importDataset(store, { root });
    expect(third.report.pairs).toBe(1);
    expect(queryImages(store.db).find((i) => i.id === im1.id)!.groundTruthId).toBeNull();
  });

  it('shows the kept tags in the worklist (search by Patient ID, filter by modality and view, sort) and the viewer (presets from the file)', async () => {
    const root = tempDir();
    studies(root);
    const store = project();
    await importDataset(store, { root });
    const list = (filter: object, sort: 'name' | 'patient' = 'name') =>
      listImages(store.db, { filter, sort }, null);
    expect(list({ search: 'PAT-2' }).items.map((i) => i.name)).toEqual(['IM2.dcm']);
    expect(list({ search: 'pat-' }).total).toBe(4);
    expect(list({ viewPosition: 'PA' }).items.map((i) => i.dicom)).toEqual([
      { patientId: 'PAT-1', studyDate: '2024-01-05', modality: 'CR', viewPosition: 'PA' },
    ]);
    expect(list({ modality: 'CR' }).total).toBe(4);
    expect(list({ modality: 'DX' }).total).toBe(0);
    expect(list({}, 'patient').items.map((i) => i.dicom?.patientId)).toEqual([
      'PAT-1',
      'PAT-2',
      'PAT-3',
      'PAT-3',
    ]);
    const im1 = list({ search: 'PAT-1' }).items[0];
    const detail = imageDetail(store, im1.id);
    expect(detail.dicom).toMatchObject({
      patientId: 'PAT-1',
      pixelSpacing: [0.5, 0.25],
      sopInstanceUid: UID.im1,
    });
    const display = await imageDisplay(store, im1.id);
    expect(display).toMatchObject({ invert: true, slope: 1, intercept: 0 });
    expect(display!.presets[0]).toMatchObject({ name: 'Full range', kind: 'window' });
  });

  it('reads DICOM in the QaTa layout: SEGs in Ground-truths pair by reference, PNG masks by name', async () => {
    const root = tempDir();
    const stored = gradient(ROWS, COLUMNS, 4095);
    const lesion = Int32Array.from(rectMask(COLUMNS, ROWS, 3, 3, 12, 9), (v) => (v ? 1 : 0));
    const common = { rows: ROWS, columns: COLUMNS, values: stored, bitsStored: 12 };
    writeDicom(root, [
      { ...common, name: 'Train Set/Images/a.dcm', sopInstance: UID.im1 },
      { ...common, name: 'Train Set/Images/b.dcm', sopInstance: UID.im2 },
      {
        kind: 'seg',
        name: 'Train Set/Ground-truths/seg_a.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: lesion,
        references: [UID.im1],
      },
      { ...common, name: 'Train Set/Ground-truths/stray.dcm', sopInstance: UID.im3 },
    ]);
    await writeGrayPng(
      path.join(root, 'Train Set/Ground-truths/mask_b.png'),
      rectMask(COLUMNS, ROWS, 1, 1, 4, 4),
      COLUMNS,
      ROWS,
    );
    const store = project();
    const { report } = await importDataset(store, { root });
    expect(report.pairs).toBe(2);
    expect(report.splits.train).toBe(2);
    expect(report.skipped).toEqual([
      {
        path: 'Train Set/Ground-truths/stray.dcm',
        reason: 'a DICOM image in a mask folder (not a SEG)',
      },
    ]);
    const a = queryImages(store.db).find((image) => image.name === 'a.dcm')!;
    const truth = await revisionMask(store.db, a.groundTruthId!);
    expect(Array.from(truth, (v) => (v ? 1 : 0))).toEqual(Array.from(lesion));
  });
});
