/**
 * PNG: the image decoder and the PNG export formats (`png` 0/255, `png01` 0/1, `probability`
 * 0..255, `overlay` the image with the mask's contour in colour).
 *
 * Fast paths for import: the header (size, depth, channels) without a decoder, and a full decode
 * of the common 8-bit gray, non-interlaced PNG (every QaTa mask) with zlib alone. sharp's per-call
 * cost is several times the work for a 224x224 mask; anything else still goes to sharp.
 */
import zlib from 'node:zlib';
import sharp from 'sharp';
import { MAX_DECODABLE_PIXELS } from '../../shared/dataset-schemas';
import { maskFileOf, overlayFileOf } from './names';
import {
  registerExportFormat,
  registerImageDecoder,
  type ExportFormatDefinition,
} from './registry';
import { decodeGrayPipeline, sharpFileHeader, sharpPipeline } from './sharp-pixels';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** Channels after decoding (palette counts as RGB, or RGBA with a tRNS chunk). */
  channels: number;
}

export function isPng(buffer: Buffer): boolean {
  return buffer.length >= 33 && buffer.subarray(0, 8).equals(SIGNATURE);
}

interface Chunk {
  type: string;
  data: Buffer;
}

/**
 * Walks the chunks; throws on a chunk running past the end of the file, and with `verify` on a
 * CRC mismatch (a damaged file: cheap next to a decode).
 */
function* chunks(buffer: Buffer, verify = false): Generator<Chunk> {
  let offset = 8;
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > buffer.length) throw new Error(`truncated PNG (chunk ${type} runs past the end)`);
    if (
      verify &&
      zlib.crc32(buffer.subarray(offset + 4, end - 4)) !== buffer.readUInt32BE(end - 4)
    ) {
      throw new Error(`corrupt PNG (CRC mismatch in chunk ${type})`);
    }
    yield { type, data: buffer.subarray(offset + 8, offset + 8 + length) };
    offset = end;
    if (type === 'IEND') return;
  }
  throw new Error('truncated PNG (no IEND)');
}

/** Header facts; checks the chunk structure through IEND (a truncated file fails here). */
export function readPngHeader(buffer: Buffer): PngHeader {
  if (!isPng(buffer)) throw new Error('not a PNG file');
  let header: PngHeader | null = null;
  let transparency = false;
  let hasData = false;
  for (const chunk of chunks(buffer, true)) {
    if (chunk.type === 'IHDR') {
      const colorType = chunk.data[9];
      const channels = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 }[colorType];
      if (channels === undefined) throw new Error(`PNG colour type ${colorType} is invalid`);
      header = {
        width: chunk.data.readUInt32BE(0),
        height: chunk.data.readUInt32BE(4),
        bitDepth: chunk.data[8],
        colorType,
        interlaced: chunk.data[12] === 1,
        channels,
      };
    } else if (chunk.type === 'tRNS') transparency = true;
    else if (chunk.type === 'IDAT') hasData = true;
  }
  if (!header) throw new Error('PNG has no IHDR');
  if (!hasData) throw new Error('PNG has no image data');
  if (header.width === 0 || header.height === 0) throw new Error('PNG has an empty size');
  if (header.colorType === 3 && transparency) header.channels = 4;
  return header;
}

/**
 * Decodes an 8-bit gray non-interlaced PNG to one byte per pixel; null for any other kind (the
 * caller falls back to sharp). Throws on corrupt data, on a size above `maxPixels` (before any
 * inflate), and on image data that inflates past the declared size (the inflate is capped).
 */
export function decodeGray8Png(
  buffer: Buffer,
  maxPixels: number = MAX_DECODABLE_PIXELS,
): { data: Uint8Array; width: number; height: number } | null {
  if (!isPng(buffer)) return null;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (const chunk of chunks(buffer)) {
    if (chunk.type === 'IHDR') {
      width = chunk.data.readUInt32BE(0);
      height = chunk.data.readUInt32BE(4);
      const bitDepth = chunk.data[8];
      const colorType = chunk.data[9];
      const interlace = chunk.data[12];
      if (bitDepth !== 8 || colorType !== 0 || interlace !== 0) return null;
    } else if (chunk.type === 'IDAT') idat.push(chunk.data);
  }
  if (width === 0 || height === 0) throw new Error('PNG has no IHDR or an empty size');
  if (width * height > maxPixels) {
    throw new Error(`PNG is ${width}x${height}, above the limit of ${maxPixels} pixels`);
  }
  const stride = width;
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), {
      maxOutputLength: height * (stride + 1),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`PNG image data is longer than its ${width}x${height} size`);
    }
    throw error;
  }
  if (raw.length < height * (stride + 1)) throw new Error('PNG image data is short');
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), row);
        break;
      case 1: // Sub
        for (let x = 0; x < stride; x++)
          out[row + x] = (raw[src + x] + (x > 0 ? out[row + x - 1] : 0)) & 255;
        break;
      case 2: // Up
        for (let x = 0; x < stride; x++)
          out[row + x] = (raw[src + x] + (y > 0 ? out[prev + x] : 0)) & 255;
        break;
      case 3: // Average
        for (let x = 0; x < stride; x++) {
          const left = x > 0 ? out[row + x - 1] : 0;
          const up = y > 0 ? out[prev + x] : 0;
          out[row + x] = (raw[src + x] + ((left + up) >> 1)) & 255;
        }
        break;
      case 4: // Paeth
        for (let x = 0; x < stride; x++) {
          const a = x > 0 ? out[row + x - 1] : 0;
          const b = y > 0 ? out[prev + x] : 0;
          const c = x > 0 && y > 0 ? out[prev + x - 1] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          out[row + x] = (raw[src + x] + predictor) & 255;
        }
        break;
      default:
        throw new Error(`PNG row filter ${filter} is invalid`);
    }
  }
  return { data: out, width, height };
}

registerImageDecoder({
  id: 'png',
  label: 'PNG',
  extensions: ['.png'],
  sniff: isPng,
  readHeader: async (bytes) => {
    // The header and chunk structure are enough; sharp's metadata call costs more than the read.
    const header = readPngHeader(bytes);
    return {
      width: header.width,
      height: header.height,
      bitDepth: header.bitDepth === 16 ? 16 : 8,
      channels: header.channels,
      format: 'png',
    };
  },
  readFileHeader: (file) => sharpFileHeader(file, 'png'),
  decode: async (bytes, options) => {
    const header = readPngHeader(bytes);
    return decodeGrayPipeline(
      sharpPipeline(bytes),
      { ...header, bitDepth: header.bitDepth === 16 ? 16 : 8, format: 'png' },
      options?.depth,
    );
  },
  pipeline: sharpPipeline,
  servesAsDisplayPng: (bytes, depth) => {
    const header = readPngHeader(bytes);
    const wanted = depth ?? header.bitDepth;
    return header.colorType === 0 && header.bitDepth === wanted && (wanted === 8 || wanted === 16);
  },
});

// ---------------------------------------------------------------------------------------------
// Export formats

/** Contour colour of overlays (RGB). */
const CONTOUR = [255, 48, 48] as const;

/** Encodes one (gray) or three (RGB) bytes per pixel as an 8-bit PNG. */
export function encodePng(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
): Promise<Buffer> {
  const image = sharp(Buffer.from(data.buffer, data.byteOffset, data.length), {
    raw: { width, height, channels },
  });
  return (channels === 1 ? image.toColourspace('b-w') : image)
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

/** The image in gray with the mask's contour (foreground pixels touching background) in colour. */
export function overlayPixels(
  gray: Uint8Array,
  mask: Uint8Array,
  width: number,
  height: number,
): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const edge =
        mask[i] > 0 &&
        (x === 0 ||
          y === 0 ||
          x === width - 1 ||
          y === height - 1 ||
          mask[i - 1] === 0 ||
          mask[i + 1] === 0 ||
          mask[i - width] === 0 ||
          mask[i + width] === 0);
      const o = i * 3;
      if (edge) {
        rgb[o] = CONTOUR[0];
        rgb[o + 1] = CONTOUR[1];
        rgb[o + 2] = CONTOUR[2];
      } else {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = gray[i];
      }
    }
  }
  return rgb;
}

/** A one-file-per-image mask format in the QaTa layout (`Ground-truths/mask_<stem>.png`). */
function maskPngFormat(
  id: string,
  label: string,
  pixels: (mask: { binary: Uint8Array; values: Uint8Array }) => Uint8Array,
): ExportFormatDefinition {
  return {
    id,
    label,
    imageFiles: ({ names }) => [{ file: maskFileOf(names), role: 'mask' }],
    render: async ({ mask }) => ({
      data: [await encodePng(pixels(mask), mask.width, mask.height, 1)],
    }),
  };
}

registerExportFormat(maskPngFormat('png', 'PNG 0/255', (mask) => mask.binary));
registerExportFormat(
  maskPngFormat('png01', 'PNG 0/1', ({ binary }) => {
    const ones = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) ones[i] = binary[i] === 0 ? 0 : 1;
    return ones;
  }),
);
registerExportFormat(
  maskPngFormat('probability', 'Probability map (8-bit)', (mask) => mask.values),
);

registerExportFormat({
  id: 'overlay',
  label: 'Overlay (image + contour)',
  imageFiles: ({ names }) => [{ file: overlayFileOf(names), role: 'mask' }],
  render: async ({ mask, readImageGray8 }) => {
    const { width, height } = mask;
    let gray;
    try {
      gray = await readImageGray8();
    } catch (error) {
      return { reason: `image file unreadable: ${(error as Error).message}` };
    }
    if (gray.width !== width || gray.height !== height) {
      return { reason: `image is ${gray.width}x${gray.height}, its mask ${width}x${height}` };
    }
    return {
      data: [
        await encodePng(overlayPixels(gray.data, mask.binary, width, height), width, height, 3),
      ],
    };
  },
});
