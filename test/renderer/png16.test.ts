// @vitest-environment node
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeGreyPng } from '../../src/renderer/src/review/png16';

function gradient(width: number, height: number, max: number): Uint16Array {
  const values = new Uint16Array(width * height);
  // Irregular values so every scanline filter sharp picks gets exercised.
  for (let i = 0; i < values.length; i++) values[i] = (i * 7919 + ((i * i) % 251) * 13) % (max + 1);
  return values;
}

describe('16-bit greyscale PNG decoding', () => {
  it('agrees with sharp on every 16-bit value, with and without adaptive filters', async () => {
    const width = 37;
    const height = 23;
    // sharp reads raw 16-bit input in host order.
    const input = Buffer.from(gradient(width, height, 65535).buffer);
    // `depth` is honoured by sharp for raw input but missing from its CreateRaw type.
    const raw = { width, height, channels: 1 as const, depth: 'ushort' };
    for (const adaptiveFiltering of [false, true]) {
      const png = await sharp(input, { raw })
        .toColourspace('grey16')
        .png({ adaptiveFiltering })
        .toBuffer();
      const reference = await sharp(png)
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer();
      const expected = new Uint16Array(reference.buffer, reference.byteOffset, width * height);
      const decoded = await decodeGreyPng(new Uint8Array(png));
      expect(decoded).not.toBeNull();
      expect(decoded!.bitDepth).toBe(16);
      expect([decoded!.width, decoded!.height]).toEqual([width, height]);
      expect(new Set(expected).size).toBeGreaterThan(100);
      expect(Array.from(decoded!.data)).toEqual(Array.from(expected));
    }
  });

  it('decodes 8-bit greyscale and refuses colour images', async () => {
    const pixels = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const grey = await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } })
      .toColourspace('b-w')
      .png({ adaptiveFiltering: true })
      .toBuffer();
    const decoded = await decodeGreyPng(new Uint8Array(grey));
    expect(decoded?.bitDepth).toBe(8);
    expect(Array.from(decoded!.data)).toEqual(Array.from(pixels));
    const rgb = await sharp(new Uint8Array(8 * 8 * 3).fill(9), {
      raw: { width: 8, height: 8, channels: 3 },
    })
      .png()
      .toBuffer();
    expect(await decodeGreyPng(new Uint8Array(rgb))).toBeNull();
  });
});
