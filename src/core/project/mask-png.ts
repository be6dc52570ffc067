/**
 * Mask pixels <-> PNG. Binary masks are stored as 8-bit gray PNGs of 0/255, predictions as 8-bit
 * gray probability PNGs (0..255). Decoding accepts whatever a client or a dataset sends: gray,
 * gray+alpha, RGB or RGBA, 0/1 or 0/255 or anything else (> 0 is foreground), in any format the
 * formats registry reads; it is never inflated past what its header declares.
 */
import sharp from 'sharp';
import { ApiError } from '../../shared/contract';
import {
  decodeBinaryMask,
  MaskSizeMismatchError,
  type DecodedMask,
  type MaskPixels,
} from '../formats/mask-decode';
import { isPng, readPngHeader } from '../formats/png';

export {
  decodeBinaryMask,
  MaskSizeMismatchError,
  type DecodedMask,
  type MaskDecodeLimits,
  type MaskPixels,
} from '../formats/mask-decode';
/** Decodes an 8-bit gray probability PNG (a prediction) to its raw 0..255 values. */
export async function decodeGray8(input: Buffer): Promise<MaskPixels> {
  const { data, info } = await sharp(input)
    .removeAlpha()
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one channel, got ${info.channels}`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** True when the file is stored as it is: an 8-bit gray PNG (the caller checks its values). */
export function isStorableMaskPng(bytes: Buffer): boolean {
  if (!isPng(bytes)) return false;
  const header = readPngHeader(bytes);
  return header.colorType === 0 && header.bitDepth === 8;
}

/** Encodes one byte per pixel as an 8-bit gray PNG. */
export async function encodeGray8(
  data: Uint8Array,
  width: number,
  height: number,
): Promise<Buffer> {
  if (data.length !== width * height) {
    throw new Error(`pixel count ${data.length} does not match ${width}x${height}`);
  }
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.length), {
    raw: { width, height, channels: 1 },
  })
    .toColourspace('b-w')
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
}

export function countForeground(data: Uint8Array, cut = 1): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] >= cut) n++;
  return n;
}

/** Strips an optional `data:image/png;base64,` prefix and decodes base64. */
export function bufferFromBase64(text: string): Buffer {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? text.slice(comma + 1) : text, 'base64');
}

/**
 * The mask a request sends for an image (PNG bytes, or base64 with an optional data: prefix),
 * decoded as a binary mask of the image's size. The header's size is compared first, so nothing
 * of another size is ever inflated; a mask of another size or one that is not a readable image
 * is the caller's error (bad-request), saying which.
 */
export async function decodeRequestMask(
  png: string | Buffer,
  image: { id: number; width: number; height: number },
): Promise<DecodedMask> {
  const bytes = typeof png === 'string' ? bufferFromBase64(png) : png;
  try {
    return await decodeBinaryMask(bytes, { expected: image });
  } catch (error) {
    if (error instanceof MaskSizeMismatchError) {
      throw new ApiError(
        'bad-request',
        `mask is ${error.width}x${error.height}, image ${image.id} is ${image.width}x${image.height}`,
      );
    }
    throw new ApiError('bad-request', `mask is not a readable PNG: ${(error as Error).message}`);
  }
}
