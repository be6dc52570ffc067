import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDicomImage, defaultVoiPixels } from '../../src/core/formats/dicom/image';
import { dicomFacts, parseDicom } from '../../src/core/formats/dicom/parse';
import { voiFraction } from '../../src/shared/dicom-voi';
import { dcmtk, gradient, tempDir, writeDicom } from './dicom-fixtures';

const ROWS = 48;
const COLUMNS = 64;

function read(file: string) {
  return decodeDicomImage(fs.readFileSync(file));
}

/** Modality value of every pixel, as the viewer and training read it. */
function modality(image: Awaited<ReturnType<typeof read>>): number[] {
  return Array.from(image.values, (p) => image.display.slope * p + image.display.intercept);
}

describe('DICOM pixel pipeline (fixtures by pydicom and dcmtk)', () => {
  const dir = tempDir();
  const stored12 = gradient(ROWS, COLUMNS, 4095);

  it('reads a 12-bit CR with a rescale: modality values, named window presets, header facts', async () => {
    const [file] = writeDicom(dir, [
      {
        name: 'cr12.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: stored12,
        bitsStored: 12,
        tags: {
          RescaleSlope: '2',
          RescaleIntercept: '-1024',
          WindowCenter: ['500', '1000'],
          WindowWidth: ['1000', '4000'],
          WindowCenterWidthExplanation: ['SOFT', 'WIDE'],
          PatientID: 'PAT-7',
          PatientName: 'Doe^Jane',
          StudyDate: '20240131',
          ViewPosition: 'PA',
          ImagerPixelSpacing: ['0.15', '0.2'],
        },
      },
    ]);
    const image = await read(file);
    expect(modality(image)).toEqual(Array.from(stored12, (s) => 2 * s - 1024));
    expect(image.bitDepth).toBe(16);
    expect(image.display.invert).toBe(false);
    expect(image.display.presets.map((p) => p.name)).toEqual(['SOFT', 'WIDE']);
    expect(image.display.presets[0]).toMatchObject({ center: 500, width: 1000, fn: 'LINEAR' });
    expect(image.facts).toMatchObject({
      patientId: 'PAT-7',
      studyDate: '2024-01-31',
      modality: 'CR',
      viewPosition: 'PA',
      pixelSpacing: [0.15, 0.2],
      bitsStored: 12,
    });
    // Training sees the first window: PS3.3's LINEAR formula on the modality value.
    const eight = defaultVoiPixels(image);
    const m = modality(image);
    for (const i of [0, 100, 1000, 2000, ROWS * COLUMNS - 1]) {
      const c = 500;
      const w = 1000;
      const expected =
        m[i] <= c - 0.5 - (w - 1) / 2
          ? 0
          : m[i] > c - 0.5 + (w - 1) / 2
            ? 255
            : Math.round(255 * ((m[i] - (c - 0.5)) / (w - 1) + 0.5));
      expect(eight[i]).toBe(expected);
    }
  });

  it('inverts MONOCHROME1 last: the lowest stored value is white', async () => {
    const [file] = writeDicom(dir, [
      {
        name: 'mono1.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: stored12,
        bitsStored: 12,
        photometric: 'MONOCHROME1',
      },
    ]);
    const image = await read(file);
    expect(image.display.invert).toBe(true);
    const eight = defaultVoiPixels(image);
    const lowest = stored12.indexOf(Math.min(...stored12));
    const highest = stored12.indexOf(Math.max(...stored12));
    expect(eight[lowest]).toBe(255);
    expect(eight[highest]).toBe(0);
  });

  it('keeps signed 16-bit and 8-bit stored values', async () => {
    const signed = gradient(ROWS, COLUMNS, 60000, -30000);
    const eight = gradient(ROWS, COLUMNS, 255);
    const [s16, u8] = writeDicom(dir, [
      {
        name: 's16.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: signed,
        bitsStored: 16,
        signed: true,
      },
      {
        name: 'u8.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: eight,
        bitsAllocated: 8,
        bitsStored: 8,
      },
    ]);
    expect(modality(await read(s16))).toEqual(Array.from(signed));
    const image8 = await read(u8);
    expect(image8.bitDepth).toBe(8);
    expect(modality(image8)).toEqual(Array.from(eight));
    // No VOI in the file: a window over the values used.
    expect(image8.display.presets[0]).toMatchObject({ name: 'Full range', fn: 'LINEAR_EXACT' });
  });

  it('applies a Modality LUT Sequence, a VOI LUT Sequence and SIGMOID', async () => {
    const values = gradient(ROWS, COLUMNS, 1023);
    const modalityData = Array.from({ length: 1024 }, (_, i) => 4095 - i * 2);
    const voiData = Array.from({ length: 3000 }, (_, i) => Math.min(255, Math.floor(i / 8)));
    const [lutFile, sigmoidFile] = writeDicom(dir, [
      {
        name: 'luts.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values,
        bitsStored: 10,
        modalityLut: { first: 0, bits: 12, data: modalityData, type: 'US' },
        voiLuts: [{ first: 1500, bits: 8, data: voiData, explanation: 'TABLE A' }],
      },
      {
        name: 'sigmoid.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values,
        bitsStored: 10,
        tags: { WindowCenter: '512', WindowWidth: '256', VOILUTFunction: 'SIGMOID' },
      },
    ]);
    const image = await read(lutFile);
    expect(modality(image)).toEqual(Array.from(values, (s) => modalityData[s]));
    expect(image.display.presets).toHaveLength(1);
    const table = image.display.presets[0];
    expect(table).toMatchObject({ kind: 'table', name: 'TABLE A', firstMapped: 1500, bits: 8 });
    const eight = defaultVoiPixels(image);
    const m = modality(image);
    for (let i = 0; i < m.length; i += 97) {
      const index = Math.min(2999, Math.max(0, m[i] - 1500));
      expect(eight[i]).toBe(voiData[index]);
    }
    const sigmoid = await read(sigmoidFile);
    expect(sigmoid.display.presets[0]).toMatchObject({ fn: 'SIGMOID', center: 512, width: 256 });
    const s8 = defaultVoiPixels(sigmoid);
    for (let i = 0; i < values.length; i += 101)
      expect(s8[i]).toBe(Math.round(255 / (1 + Math.exp((-4 * (values[i] - 512)) / 256))));
    expect(voiFraction(512, sigmoid.display.presets[0])).toBeCloseTo(0.5);
  });

  it('decodes every transfer syntax dcmtk and Pillow write to the same stored values', async () => {
    const [source] = writeDicom(dir, [
      { name: 'ts/source.dcm', rows: ROWS, columns: COLUMNS, values: stored12, bitsStored: 12 },
    ]);
    const [j2k] = writeDicom(dir, [
      {
        name: 'ts/j2k.dcm',
        rows: ROWS,
        columns: COLUMNS,
        values: stored12,
        bitsStored: 12,
        transferSyntax: 'j2k',
      },
    ]);
    const out = (name: string) => path.join(dir, 'ts', name);
    const files = {
      '1.2.840.10008.1.2': dcmtk('dcmconv', ['+ti'], source, out('implicit.dcm')),
      '1.2.840.10008.1.2.1.99': dcmtk('dcmconv', ['+td'], source, out('deflated.dcm')),
      '1.2.840.10008.1.2.5': dcmtk('dcmcrle', [], source, out('rle.dcm')),
      '1.2.840.10008.1.2.4.70': dcmtk('dcmcjpeg', ['+e1'], source, out('jpeg-sv1.dcm')),
      '1.2.840.10008.1.2.4.57': dcmtk('dcmcjpeg', ['+el', '+sv', '6'], source, out('jpeg-p14.dcm')),
      '1.2.840.10008.1.2.4.80': dcmtk('dcmcjpls', [], source, out('jpeg-ls.dcm')),
      '1.2.840.10008.1.2.4.90': j2k,
    };
    for (const [uid, file] of Object.entries(files)) {
      const parsed = parseDicom(fs.readFileSync(file));
      expect(parsed.transferSyntax, file).toBe(uid);
      expect(modality(await read(file)), uid).toEqual(Array.from(stored12));
    }
  });

  it('decodes JPEG baseline (lossy, 8-bit) close to the original', async () => {
    const values = gradient(ROWS, COLUMNS, 255);
    const [source] = writeDicom(dir, [
      { name: 'ts/u8.dcm', rows: ROWS, columns: COLUMNS, values, bitsAllocated: 8, bitsStored: 8 },
    ]);
    const file = dcmtk(
      'dcmcjpeg',
      ['+eb', '+q', '95'],
      source,
      path.join(dir, 'ts', 'baseline.dcm'),
    );
    expect(dicomFacts(parseDicom(fs.readFileSync(file))).transferSyntax).toBe(
      '1.2.840.10008.1.2.4.50',
    );
    const decoded = modality(await read(file));
    const meanError =
      decoded.reduce((sum, v, i) => sum + Math.abs(v - values[i]), 0) / values.length;
    expect(meanError).toBeLessThan(8);
  });
});
