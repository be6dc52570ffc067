/**
 * Mask pixels <-> PNG. Binary masks are stored as 8-bit gray PNGs of 0/255, predictions as 8-bit
 * gray probability PNGs (0..255). Decoding accepts whatever a client or a dataset sends: gray,
 * gray+alpha, RGB or RGBA, 0/1 or 0/255 or anything else (> 0 is foreground).
 */
import sharp from 'sharp';
import { decodeGray8Png, isPng, readPngHeader } from '../formats/png';

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
 * Decodes a PNG (or any format sharp reads) to a binary 0/255 mask. A pixel is foreground when
 * any colour channel is > 0 and, with an alpha channel, it is not fully transparent.
 */
export async function decodeBinaryMask(input: Buffer): Promise<DecodedMask> {
  const fast = decodeGray8Png(input);
  if (fast) return binariseGray(fast.data, fast.width, fast.height);
  const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
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
