import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { exportMasks } from '../../src/core/export/exporter';
import { queryImages } from '../../src/core/project/images';
import { addCorrection, revisionMask, savePrediction } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ProjectStore } from '../../src/core/project/store';
import { rectMask, writeGrayPng } from './project-fixtures';
import { dcmtk, gradient, python, tempDir, writeDicom } from './dicom-fixtures';

const ROWS = 32;
const COLUMNS = 48;
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function project(): ProjectStore {
  const store = ProjectStore.open(tempDir('qataseg-seg-project-'));
  stores.push(store);
  return store;
}

/** dciodvfy's errors (its warnings are advice about DICOMDIR and such). */
function dciodvfyErrors(file: string): string[] {
  let output: string;
  try {
    output = execFileSync('dciodvfy', [file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  return output.split('\n').filter((line) => /^Error/.test(line));
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

interface SegAsRead {
  sopClass: string;
  study: string;
  series: string;
  patientId: string;
  patientName: string;
  identityRemoved: string;
  referencedSeries: string;
  referenced: string;
  frameSource: string;
  segments: number;
  label: string;
  algorithm: string;
  algorithmName: string;
  category: string;
  creator: string;
  mask: number[];
}

/** What pydicom reads from a SEG: references, the segment, the mask (0/1 per pixel). */
function pydicomSeg(file: string): SegAsRead {
  return parseJson<SegAsRead>(
    python(
      `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1])
frame = d.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
s = d.SegmentSequence[0]
print(json.dumps({
  'sopClass': d.SOPClassUID, 'study': d.StudyInstanceUID, 'series': d.SeriesInstanceUID,
  'patientId': d.PatientID, 'patientName': str(d.PatientName),
  'identityRemoved': d.get('PatientIdentityRemoved', ''),
  'referencedSeries': d.ReferencedSeriesSequence[0].SeriesInstanceUID,
  'referenced': d.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID,
  'frameSource': frame.ReferencedSOPInstanceUID,
  'segments': len(d.SegmentSequence), 'label': s.SegmentLabel,
  'algorithm': s.SegmentAlgorithmType, 'algorithmName': s.get('SegmentAlgorithmName', ''),
  'category': s.SegmentedPropertyCategoryCodeSequence[0].CodingSchemeDesignator,
  'creator': str(d.get('ContentCreatorName', '')),
  'mask': d.pixel_array.astype(int).flatten().tolist(),
}))`,
      file,
    ),
  );
}

function pydicomUids(file: string): {
  study: string;
  series: string;
  sop: string;
  patientId: string;
} {
  return parseJson(
    python(
      `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1])
print(json.dumps({'study': d.StudyInstanceUID, 'series': d.SeriesInstanceUID, 'sop': d.SOPInstanceUID, 'patientId': d.PatientID}))`,
      file,
    ),
  );
}

/** A DICOM study (two CR images, one with a SEG) and a PNG folder, imported into one project. */
async function setUp() {
  const root = tempDir();
  const dicomRoot = path.join(root, 'dicom');
  const lesion = Int32Array.from(rectMask(COLUMNS, ROWS, 5, 4, 20, 18), (v) => (v ? 1 : 0));
  const common = {
    rows: ROWS,
    columns: COLUMNS,
    values: gradient(ROWS, COLUMNS, 4095),
    bitsStored: 12,
    study: '1.2.826.0.1.3680043.8.498.100',
    series: '1.2.826.0.1.3680043.8.498.200',
  };
  const tags = {
    PatientID: 'PAT-1',
    PatientName: 'Doe^Jane',
    PatientBirthDate: '19700101',
    StudyDate: '20240105',
    ImagerPixelSpacing: ['0.2', '0.2'],
  };
  const [cr1, cr2] = writeDicom(dicomRoot, [
    {
      ...common,
      name: 'study/CR1.dcm',
      sopInstance: '1.2.826.0.1.3680043.8.498.101',
      photometric: 'MONOCHROME1',
      tags,
    },
    { ...common, name: 'work/CR2.dcm', sopInstance: '1.2.826.0.1.3680043.8.498.102', tags },
    {
      kind: 'seg',
      name: 'study/seg.dcm',
      rows: ROWS,
      columns: COLUMNS,
      values: lesion,
      references: ['1.2.826.0.1.3680043.8.498.101'],
    },
  ]);
  dcmtk('dcmcjpeg', ['+e1'], cr2, path.join(dicomRoot, 'study', 'CR2.dcm'));
  fs.rmSync(path.dirname(cr2), { recursive: true });
  const pngRoot = path.join(root, 'png');
  for (const i of [1, 2]) {
    const texture = new Uint8Array(ROWS * COLUMNS).map((_, p) => (p * 7 + i * 29) % 251);
    await writeGrayPng(path.join(pngRoot, 'Images', `covid_${i}.png`), texture, COLUMNS, ROWS);
    await writeGrayPng(
      path.join(pngRoot, 'Ground-truths', `mask_covid_${i}.png`),
      rectMask(COLUMNS, ROWS, i, i, 10 + i, 12),
      COLUMNS,
      ROWS,
    );
  }
  const store = project();
  await importDataset(store, { root: dicomRoot });
  await importDataset(store, { root: pngRoot });
  const images = queryImages(store.db);
  const byName = new Map(images.map((image) => [image.name, image]));
  // A correction of CR2 (MANUAL) and a prediction of CR1 (AUTOMATIC).
  const corrected = rectMask(COLUMNS, ROWS, 10, 10, 30, 25);
  const cr2Image = byName.get('CR2.dcm')!;
  addCorrection(store.db, cr2Image.id, {
    png: await encodeGray8(corrected, COLUMNS, ROWS),
    width: COLUMNS,
    height: ROWS,
    foreground: 300,
    author: 'Dr Reviewer',
  });
  const probabilities = new Uint8Array(ROWS * COLUMNS).map((_, p) => (p % COLUMNS < 24 ? 230 : 10));
  await savePrediction(store.db, byName.get('CR1.dcm')!.id, 'v7', probabilities);
  return { root, dicomRoot, pngRoot, store, byName, lesion, corrected, cr1 };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('DICOM SEG export (checked by dciodvfy and pydicom)', () => {
  it('writes one valid SEG per image referencing its source, a Secondary Capture beside PNG-sourced ones, and re-imports pixel-equal', async () => {
    const { root, dicomRoot, store, byName, lesion, corrected, cr1 } = await setUp();
    const out = path.join(root, 'out');
    // The real command, as a user runs it.
    execFileSync(
      process.execPath,
      [BIN, 'export', '--project', store.dir, '--out', out, '--format', 'dicom-seg', '--json'],
      { stdio: 'pipe' },
    );
    const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8');
    const segs = manifest.split('\n').slice(1).filter(Boolean);
    expect(segs).toHaveLength(4);
    const segFiles = new Map<string, string>();
    for (const image of byName.values()) {
      const row = segs.find(
        (line) => line.startsWith(`${image.relPath},`) || line.startsWith(`"${image.relPath}",`),
      )!;
      const file = row.split(',')[1];
      expect(row).toContain(sha256(path.join(out, file)));
      segFiles.set(image.name, path.join(out, file));
    }
    for (const file of fs.readdirSync(out, { recursive: true }) as string[]) {
      if (file.endsWith('.dcm')) expect(dciodvfyErrors(path.join(out, file)), file).toEqual([]);
    }
    // CR1: its ground truth came from the SEG (best = ground truth: MANUAL), references CR1.
    const source1 = pydicomUids(cr1);
    const seg1 = pydicomSeg(segFiles.get('CR1.dcm')!);
    expect(seg1).toMatchObject({
      sopClass: '1.2.840.10008.5.1.4.1.1.66.4',
      study: source1.study,
      referencedSeries: source1.series,
      referenced: source1.sop,
      frameSource: source1.sop,
      segments: 1,
      label: 'COVID-19 infection',
      algorithm: 'MANUAL',
      category: 'SCT',
      patientId: 'PAT-1',
    });
    expect(seg1.mask).toEqual(Array.from(lesion));
    const seg2 = pydicomSeg(segFiles.get('CR2.dcm')!);
    expect(seg2).toMatchObject({ algorithm: 'MANUAL', creator: 'Dr Reviewer' });
    expect(seg2.mask).toEqual(Array.from(corrected, (v) => (v ? 1 : 0)));
    expect(seg2.series).toBe(seg1.series);
    // PNG-sourced: the SEG references the Secondary Capture written beside it.
    const sc1 = segs
      .find((line) => line.includes('covid_1.png'))!
      .split(',')
      .find((cell) => cell.includes('sc_covid_1.dcm'))!;
    const capture = pydicomUids(path.join(out, sc1));
    expect(pydicomSeg(segFiles.get('covid_1.png')!)).toMatchObject({
      referenced: capture.sop,
      study: capture.study,
    });

    // Re-import: the source DICOMs beside the exported SEGs give the exported masks back.
    const again = path.join(root, 'again');
    fs.mkdirSync(again);
    for (const name of ['CR1.dcm', 'CR2.dcm'])
      fs.copyFileSync(path.join(dicomRoot, 'study', name), path.join(again, name));
    for (const name of ['CR1.dcm', 'CR2.dcm'])
      fs.copyFileSync(segFiles.get(name)!, path.join(again, `seg-${name}`));
    const second = project();
    const reimport = await importDataset(second, { root: again });
    expect(reimport.report.pairs).toBe(2);
    const masks = new Map<string, number[]>();
    for (const image of queryImages(second.db))
      masks.set(
        image.name,
        Array.from(await revisionMask(second.db, image.groundTruthId!), (v) => (v ? 1 : 0)),
      );
    expect(masks.get('CR1.dcm')).toEqual(seg1.mask);
    expect(masks.get('CR2.dcm')).toEqual(seg2.mask);
    // And the export folder itself (Secondary Captures + SEGs) imports as a DICOM dataset.
    const third = project();
    const fromOut = await importDataset(third, { root: out });
    // (The SEGs of the DICOM images reference sources that are not in OUT: orphans there.)
    expect(fromOut.report).toMatchObject({ pairs: 2, orphanMasks: 2 });

    // A second export: a new SEG series; the Secondary Captures keep their UIDs.
    const out2 = path.join(root, 'out2');
    await exportMasks(store, { out: out2, format: 'dicom-seg' });
    expect(
      pydicomSeg(path.join(out2, path.relative(out, segFiles.get('CR1.dcm')!))).series,
    ).not.toBe(seg1.series);
    expect(pydicomUids(path.join(out2, sc1))).toEqual(capture);
  });

  it('marks a prediction AUTOMATIC with the model version as algorithm name', async () => {
    const { root, store, byName } = await setUp();
    const out = path.join(root, 'predicted');
    const result = await exportMasks(store, {
      out,
      format: 'dicom-seg',
      source: 'predicted',
      model: 'v7',
    });
    expect(result.masks).toBe(1);
    const file = result.files.find((f) => f.includes('seg_CR1'))!;
    expect(dciodvfyErrors(path.join(out, file))).toEqual([]);
    const seg = pydicomSeg(path.join(out, file));
    expect(seg).toMatchObject({ algorithm: 'AUTOMATIC', algorithmName: 'v7' });
    expect(seg.mask.filter(Boolean).length).toBe(24 * ROWS);
    expect(byName.get('CR1.dcm')).toBeDefined();
  });

  it('de-identifies with --deidentify: no patient data, new UIDs consistent across the export', async () => {
    const { root, store, cr1 } = await setUp();
    const out = path.join(root, 'anonymous');
    const result = await exportMasks(store, { out, format: 'dicom-seg', deidentify: true });
    const files = result.files.filter((f) => f.endsWith('.dcm'));
    for (const file of files) {
      expect(dciodvfyErrors(path.join(out, file)), file).toEqual([]);
      const bytes = fs.readFileSync(path.join(out, file)).toString('latin1');
      for (const secret of [
        'PAT-1',
        'Doe',
        '19700101',
        '20240105',
        '1.2.826.0.1.3680043.8.498.101',
      ])
        expect(bytes, `${file} holds ${secret}`).not.toContain(secret);
    }
    const seg1 = pydicomSeg(
      path.join(
        out,
        files.find((f) => f.includes('seg_CR1'))!,
      ),
    );
    const seg2 = pydicomSeg(
      path.join(
        out,
        files.find((f) => f.includes('seg_CR2'))!,
      ),
    );
    expect(seg1).toMatchObject({ patientName: '', identityRemoved: 'YES', patientId: 'ANON0001' });
    expect(seg1.referenced).not.toBe(pydicomUids(cr1).sop);
    // One study, one patient: the same replacements in both files.
    expect(seg2.study).toBe(seg1.study);
    expect(seg2.patientId).toBe(seg1.patientId);
    // A PNG's SEG still references its (de-identified) Secondary Capture.
    const sc = files.find((f) => f.includes('sc_covid_2'))!;
    expect(
      pydicomSeg(
        path.join(
          out,
          files.find((f) => f.includes('seg_covid_2'))!,
        ),
      ).referenced,
    ).toBe(pydicomUids(path.join(out, sc)).sop);
  });

  it('keeps patient data out of PNG, COCO and manifest exports', async () => {
    const { root, store } = await setUp();
    for (const format of ['png', 'coco', 'overlay'] as const) {
      const out = path.join(root, `plain-${format}`);
      const result = await exportMasks(store, { out, format, copyImages: format === 'png' });
      for (const file of result.files) {
        if (file.endsWith('.dcm')) continue; // --images copies the DICOM source itself
        const bytes = fs.readFileSync(path.join(out, file)).toString('latin1');
        for (const secret of ['PAT-1', 'Doe', '19700101', '20240105'])
          expect(bytes, file).not.toContain(secret);
      }
    }
  });

  it('writes the segment label and colour set with qataseg segment-label, refusing bad ones', async () => {
    const { root, store } = await setUp();
    // The command waits its turn behind a writer: this process's store is one.
    store.close();
    const qataseg = (...args: string[]) =>
      execFileSync(process.execPath, [BIN, ...args, '--project', store.dir], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    const refusal = (...args: string[]) => {
      try {
        qataseg(...args);
        return { status: 0, stderr: '' };
      } catch (error) {
        const failed = error as { status: number; stderr: string };
        return { status: failed.status, stderr: failed.stderr };
      }
    };
    expect(JSON.parse(qataseg('segment-label', '--json'))).toEqual({
      name: 'COVID-19 infection',
      colour: '#ff3030',
    });
    const badColour = refusal('segment-label', '--colour', 'green');
    expect(badColour.status).toBe(2);
    expect(badColour.stderr).toContain('a colour is #RRGGBB');
    const badName = refusal('segment-label', '--name', 'left\\right');
    expect(badName.status).toBe(2);
    expect(badName.stderr).toContain('no backslash');
    qataseg('segment-label', '--name', 'Ground-glass opacity', '--colour', '#00FF00');
    expect(qataseg('segment-label')).toBe('segment label: Ground-glass opacity (colour #00ff00)\n');

    const out = path.join(root, 'labelled');
    qataseg('export', '--out', out, '--format', 'dicom-seg');
    const seg = fs
      .readdirSync(out, { recursive: true, encoding: 'utf8' })
      .filter((file) => /seg_CR1\.dcm$/.test(file))
      .map((file) => path.join(out, file))[0];
    expect(dciodvfyErrors(seg)).toEqual([]);
    const read = parseJson<{ label: string; lab: number[] }>(
      python(
        `
import json, sys, pydicom
s = pydicom.dcmread(sys.argv[1]).SegmentSequence[0]
print(json.dumps({'label': s.SegmentLabel, 'lab': [int(v) for v in s.RecommendedDisplayCIELabValue]}))`,
        seg,
      ),
    );
    expect(read.label).toBe('Ground-glass opacity');
    // sRGB #00ff00 is CIELab (87.74, -86.18, 83.18) under D65, scaled to 0..65535 by PS3.3.
    const expected = [57498, 10747, 54274];
    expect(read.lab).toHaveLength(3);
    read.lab.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(700));
  });
});
