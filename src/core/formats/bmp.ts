/**
 * A small BMP decoder: sharp's bundled libvips cannot read BMP. Handles the files X-ray datasets
 * contain: BITMAPINFOHEADER and later (V4/V5), 1/4/8-bit palette, 16/24/32-bit, uncompressed or
 * BI_BITFIELDS, bottom-up or top-down. RLE-compressed files are refused with a clear reason.
 */
import sharp from 'sharp';
import { registerImageDecoder, type ImageHeader } from './registry';
import { decodeGrayPipeline } from './sharp-pixels';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export function isBmp(buffer: Buffer): boolean {
  return buffer.length >= 26 && buffer[0] === 0x42 && buffer[1] === 0x4d;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

function channelValue(pixel: number, field: { shift: number; bits: number }): number {
  if (field.bits === 0) return 255;
  const value = (pixel >>> field.shift) & ((1 << field.bits) - 1);
  return Math.round((value * 255) / ((1 << field.bits) - 1));
}

/** Header facts without decoding the pixels. */
export function bmpHeader(buffer: Buffer): { width: number; height: number; bitCount: number } {
  if (!isBmp(buffer)) throw new Error('not a BMP file');
  const headerSize = buffer.readUInt32LE(14);
  if (headerSize === 12) {
    return {
      width: buffer.readUInt16LE(18),
      height: buffer.readUInt16LE(20),
      bitCount: buffer.readUInt16LE(24),
    };
  }
  if (buffer.length < 54) throw new Error('truncated BMP header');
  return {
    width: buffer.readInt32LE(18),
    height: Math.abs(buffer.readInt32LE(22)),
    bitCount: buffer.readUInt16LE(28),
  };
}

export function decodeBmp(buffer: Buffer): RawImage {
  if (!isBmp(buffer)) throw new Error('not a BMP file');
  const pixelOffset = buffer.readUInt32LE(10);
  const headerSize = buffer.readUInt32LE(14);
  if (headerSize < 40) throw new Error(`unsupported BMP header (${headerSize} bytes)`);
  const width = buffer.readInt32LE(18);
  const rawHeight = buffer.readInt32LE(22);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  const bitCount = buffer.readUInt16LE(28);
  const compression = buffer.readUInt32LE(30);
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535) {
    throw new Error(`BMP has an invalid size ${width}x${height}`);
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new Error(`compressed BMP (method ${compression}) is not supported`);
  }
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  if (pixelOffset + stride * height > buffer.length) throw new Error('truncated BMP pixel data');

  const rowStart = (y: number) => pixelOffset + (topDown ? y : height - 1 - y) * stride;

  if (bitCount <= 8) {
    const paletteOffset = 14 + headerSize;
    const colourCount = buffer.readUInt32LE(46) || 1 << bitCount;
    const palette: number[][] = [];
    for (let i = 0; i < colourCount; i++) {
      const o = paletteOffset + i * 4;
      palette.push([buffer[o + 2], buffer[o + 1], buffer[o]]);
    }
    const gray = palette.every(([r, g, b]) => r === g && g === b);
    const channels = gray ? 1 : 3;
    const data = Buffer.alloc(width * height * channels);
    const perByte = 8 / bitCount;
    const mask = (1 << bitCount) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const byte = buffer[row + Math.floor(x / perByte)];
        const index = (byte >> (8 - bitCount * ((x % perByte) + 1))) & mask;
        const colour = palette[index] ?? [0, 0, 0];
        const o = (y * width + x) * channels;
        if (gray) data[o] = colour[0];
        else {
          data[o] = colour[0];
          data[o + 1] = colour[1];
          data[o + 2] = colour[2];
        }
      }
    }
    return { data, width, height, channels };
  }

  if (bitCount === 24) {
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const s = row + x * 3;
        const o = (y * width + x) * 3;
        data[o] = buffer[s + 2];
        data[o + 1] = buffer[s + 1];
        data[o + 2] = buffer[s];
      }
    }
    return { data, width, height, channels: 3 };
  }

  if (bitCount === 16 || bitCount === 32) {
    let masks: [number, number, number, number];
    if (compression === BI_RGB) {
      masks = bitCount === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0];
    } else {
      // Masks follow the 40-byte header (BITFIELDS) or sit inside V4/V5 headers.
      masks = [
        buffer.readUInt32LE(54),
        buffer.readUInt32LE(58),
        buffer.readUInt32LE(62),
        headerSize >= 56 || compression === BI_ALPHABITFIELDS ? buffer.readUInt32LE(66) : 0,
      ];
    }
    const [r, g, b, a] = masks.map(maskShift);
    const hasAlpha = a.bits > 0;
    const channels = hasAlpha ? 4 : 3;
    const data = Buffer.alloc(width * height * channels);
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const pixel =
          bitCount === 16 ? buffer.readUInt16LE(row + x * 2) : buffer.readUInt32LE(row + x * 4);
        const o = (y * width + x) * channels;
        data[o] = channelValue(pixel, r);
        data[o + 1] = channelValue(pixel, g);
        data[o + 2] = channelValue(pixel, b);
        if (hasAlpha) data[o + 3] = channelValue(pixel, a);
      }
    }
    return { data, width, height, channels };
  }
  throw new Error(`BMP with ${bitCount} bits per pixel is not supported`);
}

/** Header facts; the pixel data is checked to be all there and supported. */
function readBmpHeader(bytes: Buffer): ImageHeader {
  const header = bmpHeader(bytes);
  decodeBmp(bytes);
  return {
    width: header.width,
    height: header.height,
    bitDepth: 8,
    channels: header.bitCount === 32 ? 4 : header.bitCount <= 8 ? 1 : 3,
    format: 'bmp',
  };
}

/** sharp's bundled libvips cannot read BMP: our decoder makes it raw pixels first. */
function bmpPipeline(bytes: Buffer): sharp.Sharp {
  const raw = decodeBmp(bytes);
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
}

registerImageDecoder({
  id: 'bmp',
  label: 'BMP',
  extensions: ['.bmp'],
  sniff: isBmp,
  readHeader: async (bytes) => readBmpHeader(bytes),
  decode: async (bytes, options) =>
    decodeGrayPipeline(bmpPipeline(bytes), readBmpHeader(bytes), options?.depth),
  pipeline: bmpPipeline,
});
