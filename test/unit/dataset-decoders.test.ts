import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeBmp } from '../../src/core/dataset/bmp';
import { probeImage } from '../../src/core/dataset/decode';
import { decodeGray8Png, readPngHeader } from '../../src/core/dataset/png';
import { demoPhantom } from '../../src/core/dataset/demo';
import { bmp, png16 } from './dataset-files';

async function sharpGray(png: Buffer): Promise<number[]> {
  const { data } = await sharp(png)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Array.from(data);
}

describe('PNG fast path', () => {
  it('decodes 8-bit gray PNGs exactly as sharp does, whatever the row filters', async () => {
    const { image, mask } = demoPhantom(5, 0, 48);
    for (const pixels of [image, mask]) {
      for (const options of [
        { adaptiveFiltering: true },
        { adaptiveFiltering: false },
        { compressionLevel: 0 },
      ]) {
        const png = await sharp(Buffer.from(pixels), {
          raw: { width: 48, height: 48, channels: 1 },
        })
          .toColourspace('b-w')
          .png(options)
          .toBuffer();
        const fast = decodeGray8Png(png);
        expect(fast).not.toBeNull();
        expect(Array.from(fast!.data)).toEqual(await sharpGray(png));
      }
    }
  });

  it('declines other kinds and reads their headers', async () => {
    const rgb = await sharp(Buffer.alloc(6 * 4 * 3, 9), {
      raw: { width: 6, height: 4, channels: 3 },
    })
      .png()
      .toBuffer();
    expect(decodeGray8Png(rgb)).toBeNull();
    expect(readPngHeader(rgb)).toMatchObject({ width: 6, height: 4, channels: 3, bitDepth: 8 });
    const sixteen = png16(new Uint16Array(12).fill(4000), 4, 3);
    expect(decodeGray8Png(sixteen)).toBeNull();
    expect(await probeImage(sixteen)).toMatchObject({
      width: 4,
      height: 3,
      bitDepth: 16,
      channels: 1,
    });
  });
});

describe('BMP decoder', () => {
  it('reads 8-bit palette and 24-bit BMPs with odd row padding', () => {
    const w = 5;
    const h = 3;
    const gray = new Uint8Array(w * h).map((_, i) => i * 10);
    const decodedGray = decodeBmp(bmp(gray, w, h, 1));
    expect(decodedGray).toMatchObject({ width: w, height: h, channels: 1 });
    expect(Array.from(decodedGray.data)).toEqual(Array.from(gray));
    const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 17) % 256);
    const decodedRgb = decodeBmp(bmp(rgb, w, h, 3));
    expect(decodedRgb.channels).toBe(3);
    expect(Array.from(decodedRgb.data)).toEqual(Array.from(rgb));
    expect(() => decodeBmp(bmp(gray, w, h, 1).subarray(0, 100))).toThrow(/truncated/);
  });
});
