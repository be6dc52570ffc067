/**
 * The formats registry: every export format of the contract has a module, decoders are found by
 * their magic bytes whatever the file's name, and a file no decoder recognises is refused by name.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  findImageDecoder,
  hasImageExtension,
  imageDecoderFor,
  listExportFormats,
  listImageDecoders,
} from '../../src/core/formats';
import { exportFormatSchema } from '../../src/shared/export-schemas';
import { bmp } from './dataset-files';

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
});
