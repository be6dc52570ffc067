/**
 * An X-ray stored as RGB or YBR whose samples are equal (a scanned film, a viewer's export) is a
 * grayscale image: it imports as one, with a note for the report; real colour stays skipped with
 * that reason. Fixtures by pydicom (make_dicom.py) and dcmtk (JPEG baseline, RLE).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeDicomForImport } from '../../src/core/formats/dicom/decoder';
import { decodeDicomImage } from '../../src/core/formats/dicom/image';
import { dcmtk, gradient, PYTHON, tempDir, writeDicom } from './dicom-fixtures';

const REFERENCE = path.join(__dirname, '../fixtures/dicom/reference_decode.py');

const ROWS = 40;
const COLUMNS = 56;

/** Interleaved samples from one gray image and a per-sample offset (Cb/Cr at 128 for YBR). */
function interleave(gray: Int32Array, offsets: [number, number, number]): Int32Array {
  const out = new Int32Array(gray.length * 3);
  gray.forEach((value, i) => {
    for (let s = 0; s < 3; s++) out[3 * i + s] = Math.min(255, Math.max(0, value + offsets[s]));
  });
  return out;
}

describe('DICOM colour that is grayscale', () => {
  const dir = tempDir();
  const gray = gradient(ROWS, COLUMNS, 255);
  const ybr = Int32Array.from({ length: gray.length * 3 }, (_, i) =>
    i % 3 === 0 ? gray[(i / 3) | 0] : 128,
  );
  const common = {
    rows: ROWS,
    columns: COLUMNS,
    samples: 3,
    bitsAllocated: 8 as const,
    bitsStored: 8,
  };
  const [equal, nearly, ybrFull, colour] = writeDicom(dir, [
    { ...common, name: 'equal.dcm', photometric: 'RGB', values: interleave(gray, [0, 0, 0]) },
    { ...common, name: 'nearly.dcm', photometric: 'RGB', values: interleave(gray, [0, 1, -1]) },
    { ...common, name: 'ybr.dcm', photometric: 'YBR_FULL', values: ybr },
    { ...common, name: 'colour.dcm', photometric: 'RGB', values: interleave(gray, [0, 40, 0]) },
  ]);
  const jpeg = dcmtk('dcmcjpeg', ['+eb'], equal, path.join(dir, 'equal-jpeg.dcm'));
  const rle = dcmtk('dcmcrle', [], equal, path.join(dir, 'equal-rle.dcm'));

  async function grayValues(file: string): Promise<number[]> {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const probe = await probeDicomForImport(bytes);
    expect(probe.note).toMatch(
      /stored in colour \((RGB|YBR_FULL\w*)\) with equal samples: imported as a grayscale image/,
    );
    const image = await decodeDicomImage(bytes);
    expect([image.width, image.height]).toEqual([COLUMNS, ROWS]);
    return Array.from(image.values);
  }

  function largestDifference(values: number[], expected: ArrayLike<number> = gray): number {
    return values.reduce((largest, v, i) => Math.max(largest, Math.abs(v - expected[i])), 0);
  }

  /** pydicom's reading of a native file: its first sample, as the reference script writes it. */
  function pydicomFirstSample(file: string): Int32Array {
    const out = tempDir('qataseg-dicom-ref-');
    const line = execFileSync(PYTHON, [REFERENCE, out, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const { raw, channelSpread } = JSON.parse(line) as { raw: string; channelSpread: number };
    expect(channelSpread).toBeLessThanOrEqual(2);
    return new Int32Array(new Uint8Array(fs.readFileSync(raw)).buffer);
  }

  it('imports RGB and YBR_FULL with equal samples as the gray image, exactly', async () => {
    expect(largestDifference(await grayValues(equal))).toBe(0);
    expect(largestDifference(await grayValues(ybrFull))).toBe(0);
    expect(largestDifference(await grayValues(rle))).toBe(0);
  });

  it("imports nearly equal samples (1 apart), and a JPEG baseline of them within 2 units of pydicom's decode", async () => {
    expect(largestDifference(await grayValues(nearly))).toBe(0);
    // dcmtk's libijg decodes the JPEG (YCbCr to RGB, its default for lossy JPEG); pydicom reads that.
    const reference = pydicomFirstSample(
      dcmtk('dcmdjpeg', [], jpeg, path.join(dir, 'equal-jpeg-decoded.dcm')),
    );
    expect(largestDifference(await grayValues(jpeg), reference)).toBeLessThanOrEqual(2);
  });

  it('skips real colour with the reason', async () => {
    const bytes = new Uint8Array(fs.readFileSync(colour));
    await expect(probeDicomForImport(bytes)).rejects.toThrow(
      /in colour \(RGB, 3 samples per pixel, which differ by up to 40\): only grayscale/,
    );
  });
});
