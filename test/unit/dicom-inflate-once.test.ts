/**
 * A deflated DICOM whose data set inflates past the cap is refused once: reading it again (each
 * thumbnail, each display of a file imported before the cap) answers the same refusal without
 * inflating it again (every thumbnail of a 1 GiB private element used to block the loop 4.3 s).
 */
import zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDicom } from '../../src/core/formats/dicom/parse';
import { deflatedDicom } from '../faults/hostile-files';

afterEach(() => vi.restoreAllMocks());

describe('deflated DICOM inflate', () => {
  it('refuses a data set past the cap once, and again without inflating', async () => {
    const bomb = await deflatedDicom('1.2.6.1', 16, 200 * 1024 * 1024);
    const inflate = vi.spyOn(zlib, 'inflateRawSync');
    expect(() => parseDicom(bomb)).toThrow(/inflates past/);
    expect(() => parseDicom(Buffer.from(bomb))).toThrow(/inflates past/);
    expect(inflate).toHaveBeenCalledTimes(1);
  }, 60_000);

  it('still reads an ordinary deflated file every time', async () => {
    const ordinary = await deflatedDicom('1.2.6.2', 16, 0);
    expect(parseDicom(ordinary).transferSyntax).toBe('1.2.840.10008.1.2.1.99');
    expect(parseDicom(ordinary).dataset.uint16('x00280010')).toBe(16);
  });
});
