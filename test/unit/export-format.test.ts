/** The export's small pure parts: COCO RLE, CSV quoting, QaTa names. */
import { describe, expect, it } from 'vitest';
import {
  csvField,
  csvText,
  manifestCsv,
  parseCsv,
  type ManifestRow,
} from '../../src/core/export/manifest';
import { maskFileOf, qataNames, sanitiseSegment } from '../../src/core/formats/names';
import { boundingBox, decodeRle, encodeRle } from '../../src/core/formats/rle';

describe('COCO RLE', () => {
  it('counts runs column-major, starting with background', () => {
    // 3 wide, 2 high, row-major:
    //   0 1 1
    //   0 0 1
    // column-major order: (0,0)=0 (0,1)=0 | (1,0)=1 (1,1)=0 | (2,0)=1 (2,1)=1
    const mask = [0, 255, 255, 0, 0, 255];
    expect(encodeRle(mask, 3, 2)).toEqual({ size: [2, 3], counts: [2, 1, 1, 2] });
    // A foreground first pixel gives a leading zero run.
    expect(encodeRle([1, 0, 0, 0], 2, 2).counts).toEqual([0, 1, 3]);
    expect(encodeRle([0, 0, 0, 0], 2, 2).counts).toEqual([4]);
  });

  it('decodes what it encodes, for random masks of odd sizes', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const [w, h] of [
      [1, 1],
      [7, 3],
      [13, 29],
    ]) {
      const mask = Uint8Array.from({ length: w * h }, () => (random() < 0.4 ? 255 : 0));
      expect(Array.from(decodeRle(encodeRle(mask, w, h)))).toEqual(Array.from(mask));
    }
    expect(() => decodeRle({ size: [2, 2], counts: [3] })).toThrow(/do not cover/);
    expect(() => decodeRle({ size: [2, 2], counts: [3, 4] })).toThrow(/exceed/);
  });

  it('gives the bounding box as [x, y, w, h]', () => {
    expect(boundingBox([0, 0, 0, 0, 1, 1, 0, 1, 0], 3, 3)).toEqual([1, 1, 2, 2]);
    expect(boundingBox([0, 0], 2, 1)).toBeNull();
  });
});

describe('manifest CSV', () => {
  it('quotes commas, quotes, line breaks and edge spaces, and parses back', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(' lead')).toBe('" lead"');
    expect(csvField(null)).toBe('');
    const row: ManifestRow = {
      image: 'Train Set/Images/a,"b"\nc.png',
      maskFile: 'Train Set/Ground-truths/mask_a.png',
      source: 'correction',
      modelVersion: null,
      reviewState: 'corrected',
      lastEdit: '2026-01-01T00:00:00.000Z',
      dice: 0.5,
      foregroundPixels: 12,
      sha256: 'ab',
      imageFile: null,
      imageSha256: null,
    };
    const parsed = parseCsv(manifestCsv([row]));
    expect(parsed).toHaveLength(2);
    expect(parsed[1][0]).toBe(row.image);
    expect(parsed[1][6]).toBe('0.500000');
    expect(parsed[1][3]).toBe('');
  });

  it('guards text cells a spreadsheet would run as a formula, never numeric cells', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      const value = `${start}HYPERLINK("http://x","y")`;
      const field = csvField(value);
      // OWASP: a leading single quote inside RFC 4180 quotes.
      expect(field.startsWith(`"'${start}`), JSON.stringify(field)).toBe(true);
      const [[parsed]] = parseCsv(field);
      expect(parsed).toBe(`'${value}`);
      expect(csvText(parsed)).toBe(value);
    }
    // A leading quote is guarded too, so reading back is exact.
    expect(csvText(parseCsv(csvField("'=1"))[0][0])).toBe("'=1");
    expect(csvText(parseCsv(csvField('a=1'))[0][0])).toBe('a=1');
    expect(csvField('Images/-1.png')).toBe('Images/-1.png');

    const row: ManifestRow = {
      image: '=1+2.png',
      maskFile: '@SUM(A1)/mask.png',
      source: 'prediction',
      modelVersion: '-v2',
      reviewState: '+x',
      lastEdit: '2026-01-01T00:00:00.000Z',
      dice: -0.25,
      foregroundPixels: -3,
      sha256: 'ab',
      imageFile: null,
      imageSha256: null,
    };
    const [, cells] = parseCsv(manifestCsv([row]));
    expect(cells.slice(0, 5)).toEqual([
      "'=1+2.png",
      "'@SUM(A1)/mask.png",
      'prediction',
      "'-v2",
      "'+x",
    ]);
    // Numbers stay numbers (the values are impossible, but a minus sign must not be guarded).
    expect(cells[6]).toBe('-0.250000');
    expect(cells[7]).toBe('-3');
  });
});

describe('QaTa names', () => {
  it('maps <folder>/Images/<name> to <folder>/Ground-truths/mask_<stem>.png', () => {
    expect(maskFileOf(qataNames('Train Set/Images/covid_1.png'))).toBe(
      'Train Set/Ground-truths/mask_covid_1.png',
    );
    expect(maskFileOf(qataNames('Images/x.jpeg'))).toBe('Ground-truths/mask_x.png');
    expect(maskFileOf(qataNames('Train_Folder/img/y.png'))).toBe(
      'Train_Folder/Ground-truths/mask_y.png',
    );
    expect(maskFileOf(qataNames('Control_Group_I/z.png', ['ds']))).toBe(
      'ds/Control_Group_I/Ground-truths/mask_z.png',
    );
  });

  it('sanitises segments', () => {
    expect(sanitiseSegment('..')).toBe('_');
    expect(sanitiseSegment('a/b\\c')).toBe('a_b_c');
    expect(sanitiseSegment('COM1.txt')).toBe('_COM1.txt');
    expect(sanitiseSegment('x\u0000y')).toBe('x_y');
    expect(Buffer.byteLength(sanitiseSegment(`${'é'.repeat(300)}.png`))).toBeLessThanOrEqual(200);
    expect(sanitiseSegment(`${'é'.repeat(300)}.png`).endsWith('.png')).toBe(true);
  });
});
