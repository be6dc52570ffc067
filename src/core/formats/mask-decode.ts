/**
 * Mask files to binary 0/255 pixels: gray, gray+alpha, RGB or RGBA, 0/1 or 0/255 or anything else
 * (> 0 is foreground), in any format an image decoder of the registry reads; never inflated past
 * what its header declares. The PNG mask reader and the project's stored masks both use it.
 */
import sharp from 'sharp';
import { MAX_DECODABLE_PIXELS } from '../../shared/dataset-schemas';
import { imageDecoderFor } from './registry';
import { decodeGray8Png } from './png';

/** Above this many pixels the decode runs in sharp on libuv's threads, not on the event loop. */
const EVENT_LOOP_DECODE_PIXELS = 4 * 1024 * 1024;

/** A mask whose header declares another size than the one it must have. */
export class MaskSizeMismatchError extends Error {
  constructor(
    readonly width: number,
    readonly height: number,
    expected: { width: number; height: number },
  ) {
    super(`mask is ${width}x${height}, not ${expected.width}x${expected.height}`);
    this.name = 'MaskSizeMismatchError';
  }
}

export interface MaskDecodeLimits {
  /** The size the mask must have (its image's): anything else is refused from the header. */
  expected?: { width: number; height: number };
  /**
   * Refused from the header above this many pixels: an import passes its limit; stored masks
   * (checked when they were written) are held only to MAX_DECODABLE_PIXELS.
   */
  maxPixels?: number;
}

export interface MaskPixels {
  /** One byte per pixel, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedMask extends MaskPixels {
  /** Pixels that are foreground (> 0) before binarisation. */
  foreground: number;
  /** The distinct source values were all in {0,1} or all in {0,255}. */
  cleanValues: boolean;
  /** Some foreground pixel had the value 1 (a 0/1 mask). */
  oneValued: boolean;
}

/**
 * Decodes a mask file to a binary 0/255 mask. A pixel is foreground when any colour channel is
 * > 0 and, with an alpha channel, it is not fully transparent. The header is read first: a size
 * other than `limits.expected` (MaskSizeMismatchError) or above `limits.maxPixels` is refused
 * before any pixel data is inflated.
 */
export async function decodeBinaryMask(
  input: Buffer,
  limits: MaskDecodeLimits = {},
): Promise<DecodedMask> {
  const decoder = imageDecoderFor(input);
  const header = await decoder.readHeader(input);
  const { expected } = limits;
  if (expected && (header.width !== expected.width || header.height !== expected.height)) {
    throw new MaskSizeMismatchError(header.width, header.height, expected);
  }
  const declared = header.width * header.height;
  const maxPixels = limits.maxPixels ?? MAX_DECODABLE_PIXELS;
  if (declared > maxPixels) {
    throw new Error(
      `mask is ${header.width}x${header.height}, above the limit of ${maxPixels} pixels`,
    );
  }
  if (declared <= EVENT_LOOP_DECODE_PIXELS) {
    const fast = decodeGray8Png(input, maxPixels);
    if (fast) return binariseGray(fast.data, fast.width, fast.height);
  }
  const pipeline = decoder.pipeline
    ? decoder.pipeline(input)
    : await grayPipeline(decoder.decode(input, { depth: 8 }));
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels === 1) return binariseGray(new Uint8Array(data), width, height);
  const pixels = width * height;
  const out = new Uint8Array(pixels);
  const hasAlpha = channels === 2 || channels === 4;
  const colourChannels = hasAlpha ? channels - 1 : channels;
  const seen = new Uint8Array(256);
  let foreground = 0;
  for (let p = 0, offset = 0; p < pixels; p++, offset += channels) {
    let value = data[offset];
    for (let c = 1; c < colourChannels; c++) value = Math.max(value, data[offset + c]);
    if (hasAlpha && data[offset + channels - 1] === 0) value = 0;
    seen[value] = 1;
    if (value > 0) {
      out[p] = 255;
      foreground++;
    }
  }
  return { data: out, width, height, foreground, ...valueFacts(seen) };
}

/** A sharp pipeline on a decoder's 8-bit gray output (decoders sharp cannot read itself). */
async function grayPipeline(
  decoded: Promise<{ data: Uint8Array | Uint16Array; width: number; height: number }>,
): Promise<sharp.Sharp> {
  const { data, width, height } = await decoded;
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels: 1 },
  });
}

/** Binarises one-byte gray pixels in place (the hot path of import: every QaTa mask). */
function binariseGray(data: Uint8Array, width: number, height: number): DecodedMask {
  const seen = new Uint8Array(256);
  let foreground = 0;
  for (let p = 0; p < data.length; p++) {
    const value = data[p];
    if (value !== 0) {
      seen[value] = 1;
      data[p] = 255;
      foreground++;
    }
  }
  return { data, width, height, foreground, ...valueFacts(seen) };
}

/** Whether the values were a clean 0/1 or 0/255 mask, from which non-zero values occurred. */
function valueFacts(seen: Uint8Array): { cleanValues: boolean; oneValued: boolean } {
  let others = 0;
  for (let v = 2; v < 255; v++) others += seen[v];
  return { cleanValues: others === 0 && !(seen[1] && seen[255]), oneValued: seen[1] === 1 };
}
