/**
 * The formats registry: every export format of the contract has a module, decoders are found by
 * their magic bytes whatever the file's name, and a file no decoder recognises is refused by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  findImageDecoder,
  hasImageExtension,
  imageDecoderFor,
  listExportFormats,
  listImageDecoders,
  listMaskReaders,
  maskReaderFor,
  maskReaderForName,
  MaskSizeMismatchError,
} from '../../src/core/formats';
import { encodeNiftiGz } from '../../src/core/formats/nifti-codec';
import { exportFormatSchema } from '../../src/shared/export-schemas';
import { bmp } from './dataset-files';
import { gradient, tempDir, writeDicom } from './dicom-fixtures';

describe('formats registry', () => {
  it('has exactly one export format module for each format the contract names', () => {
    const registered = listExportFormats()
      .map((format) => format.id)
      .sort();
    expect(registered).toEqual([...exportFormatSchema.options].sort());
  });

  it('finds the decoder by magic bytes, not by the file name', async () => {
    const pixels = Buffer.alloc(8 * 4, 128);
    const raw = { raw: { width: 8, height: 4, channels: 1 as const } };
    const files: [string, Buffer][] = [
      ['png', await sharp(pixels, raw).png().toBuffer()],
      ['jpeg', await sharp(pixels, raw).jpeg().toBuffer()],
      ['tiff', await sharp(pixels, raw).tiff().toBuffer()],
      ['bmp', bmp(new Uint8Array(pixels), 8, 4, 1)],
    ];
    for (const [id, bytes] of files) {
      const decoder = imageDecoderFor(bytes);
      expect(decoder.id).toBe(id);
      const header = await decoder.readHeader(bytes);
      expect([header.width, header.height, header.format]).toEqual([8, 4, id]);
      const gray = await decoder.decode(bytes);
      expect([gray.width, gray.height, gray.bitDepth, gray.data.length]).toEqual([8, 4, 8, 32]);
    }
  });

  it('refuses bytes no decoder recognises, and an empty file', () => {
    expect(findImageDecoder(Buffer.from('not an image at all'))).toBeNull();
    expect(() => imageDecoderFor(Buffer.from('GIF is not this'))).toThrow(
      /unsupported image format/,
    );
    expect(() => imageDecoderFor(Buffer.alloc(0))).toThrow(/empty file/);
  });

  it('lists image files by the extensions the decoders claim', () => {
    const claimed = listImageDecoders().flatMap((decoder) => decoder.extensions);
    expect(claimed).toEqual(
      expect.arrayContaining(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']),
    );
    expect(hasImageExtension('x/Images/covid_1.PNG')).toBe(true);
    expect(hasImageExtension('notes.txt')).toBe(false);
    expect(hasImageExtension('README')).toBe(false);
  });

  it('lists the mask readers of PNG, NIfTI and DICOM SEG and picks one by file name', () => {
    expect(listMaskReaders().map((reader) => [reader.id, reader.pairing])).toEqual([
      ['png', 'name'],
      ['nifti', 'name'],
      ['dicom-seg', 'reference'],
    ]);
    const byName = (name: string) => maskReaderForName(name)?.id ?? null;
    expect(byName('mask_case.png')).toBe('png');
    expect(byName('CASE.PNG')).toBe('png');
    expect(byName('case_0001.nii.gz')).toBe('nifti');
    expect(byName('case.nii')).toBe('nifti');
    expect(byName('Segmentation-1.dcm')).toBe('dicom-seg');
    expect(byName('seg.DICOM')).toBe('dicom-seg');
    expect(byName('archive.gz')).toBeNull();
    expect(byName('notes.txt')).toBeNull();
  });

  it('reads each mask format through the reader the registry picks', async () => {
    const width = 4;
    const height = 2;
    const zeroOne = new Uint8Array([0, 1, 1, 0, 0, 0, 1, 0]);
    const raw = { raw: { width, height, channels: 1 as const } };

    const png = await sharp(Buffer.from(zeroOne), raw).png().toBuffer();
    const pngReader = maskReaderFor('mask_a.png', png);
    if (pngReader?.pairing !== 'name') throw new Error('no PNG mask reader');
    const pngMask = await pngReader.read(png);
    expect([...pngMask.values]).toEqual([...zeroOne].map((v) => v * 255));
    expect([pngMask.foreground, pngMask.cleanValues, pngMask.oneValued]).toEqual([3, true, true]);
    await expect(pngReader.read(png, { expected: { width: 2, height: 2 } })).rejects.toThrow(
      MaskSizeMismatchError,
    );
    // A 16-bit probability map is scaled to 0..255 (sharp reads a Uint16Array as 16-bit raw).
    const probability16 = await sharp(new Uint16Array([0, 65535, 32896, 0, 0, 0, 0, 0]), raw)
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await imageDecoderFor(probability16).readHeader(probability16)).bitDepth).toBe(16);
    const probability = await pngReader.read(probability16, { probability: true });
    expect([...probability.values.slice(0, 3)]).toEqual([0, 255, 128]);

    // A .nii.gz by its name (gzip says nothing of NIfTI); an uncompressed .nii by its magic too.
    const nii = await encodeNiftiGz({ data: zeroOne, width, height });
    expect(maskReaderFor('case.nii.gz', nii)?.id).toBe('nifti');
    const plainNii = zlib.gunzipSync(nii);
    const sniffed = maskReaderFor('no-extension', plainNii);
    if (sniffed?.pairing !== 'name') throw new Error('an uncompressed NIfTI is not recognised');
    expect(sniffed.id).toBe('nifti');
    const niftiMask = await sniffed.read(plainNii);
    expect([niftiMask.width, niftiMask.height]).toEqual([width, height]);
    expect([...niftiMask.values]).toEqual([...zeroOne].map((v) => v * 255));

    // A SEG (written by pydicom) is recognised by its bytes whatever its name, and read whole.
    const folder = tempDir('qataseg-mask-readers-');
    const reference = '1.2.826.0.1.3680043.8.498.4242';
    writeDicom(folder, [
      {
        kind: 'seg',
        name: 'seg.bin',
        rows: height,
        columns: width,
        values: [...zeroOne],
        references: [reference],
      },
      { name: 'image.dcm', rows: height, columns: width, values: gradient(height, width, 255) },
    ]);
    const seg = fs.readFileSync(path.join(folder, 'seg.bin'));
    const segReader = maskReaderFor('seg.bin', seg);
    if (segReader?.pairing !== 'reference') throw new Error('the SEG is not recognised');
    expect(segReader.references(seg)).toEqual([reference]);
    const masks = segReader.readAll(seg);
    expect([masks.width, masks.height]).toEqual([width, height]);
    expect([...(masks.masks.get(reference) ?? [])]).toEqual([...zeroOne].map((v) => v * 255));
    // A DICOM image is no SEG: among masks it is an image mask, read by the PNG (image) reader.
    const image = fs.readFileSync(path.join(folder, 'image.dcm'));
    expect(maskReaderFor('image.dcm', image)?.id).toBe('png');
  });
});
