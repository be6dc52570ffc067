/**
 * Image decoding for import, display and the ML worker: sharp for PNG, JPEG, TIFF (8/16 bit,
 * gray/RGB/RGBA), our own decoder for BMP. Colour images become gray; 16-bit images keep their
 * full range unless 8 bits are asked for.
 */
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { dicomGray8, dicomToGrayPng, isDicom, probeDicom } from '../formats/dicom/decoder';
import { bmpHeader, decodeBmp, isBmp } from './bmp';
import { isPng, readPngHeader } from './png';

export interface ImageInfo {
  width: number;
  height: number;
  /** 8 or 16 (bits per sample). */
  bitDepth: number;
  /** Channels in the file (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: number;
  format: string;
}

const SIXTEEN_BIT = new Set(['ushort', 'short']);

/** A sharp pipeline on any supported file (BMP decoded here first). */
export function openImage(input: Buffer): sharp.Sharp {
  if (isBmp(input)) {
    const raw = decodeBmp(input);
    return sharp(raw.data, {
      raw: { width: raw.width, height: raw.height, channels: raw.channels },
    });
  }
  return sharp(input, { failOn: 'error' });
}

/**
 * Reads only the header: size, depth, channels. Files that end early are refused here too
 * (PNG without IEND, JPEG without EOI), so a truncated file is caught without a full decode.
 */
export async function probeImage(input: Buffer): Promise<ImageInfo> {
  if (input.length === 0) throw new Error('empty file');
  if (isDicom(input)) {
    const probe = probeDicom(input);
    if (probe.kind !== 'image') throw new Error('a DICOM SEG, not an image');
    return {
      width: probe.width,
      height: probe.height,
      bitDepth: probe.bitDepth,
      channels: 1,
      format: 'dicom',
    };
  }
  if (isBmp(input)) {
    const header = bmpHeader(input);
    decodeBmp(input); // validates the pixel data is all there and supported
    return {
      width: header.width,
      height: header.height,
      bitDepth: 8,
      channels: header.bitCount === 32 ? 4 : header.bitCount <= 8 ? 1 : 3,
      format: 'bmp',
    };
  }
  if (isPng(input)) {
    // The header and chunk structure are enough; sharp's metadata call costs more than the read.
    const header = readPngHeader(input);
    return {
      width: header.width,
      height: header.height,
      bitDepth: header.bitDepth === 16 ? 16 : 8,
      channels: header.channels,
      format: 'png',
    };
  }
  const meta = await sharp(input).metadata();
  if (!meta.width || !meta.height || !meta.format) throw new Error('not an image');
  if (meta.format === 'jpeg' && !endsWithJpegEoi(input)) throw new Error('truncated JPEG (no EOI)');
  const supported = ['png', 'jpeg', 'tiff', 'webp', 'gif'];
  if (!supported.includes(meta.format)) throw new Error(`unsupported image format ${meta.format}`);
  return {
    width: meta.width,
    height: meta.height,
    bitDepth: meta.depth && SIXTEEN_BIT.has(meta.depth) ? 16 : 8,
    channels: meta.channels ?? 1,
    format: meta.format,
  };
}

function endsWithJpegEoi(buffer: Buffer): boolean {
  const tail = buffer.subarray(Math.max(0, buffer.length - 64));
  for (let i = tail.length - 2; i >= 0; i--)
    if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
  return false;
}

export interface GrayImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  bitDepth: 8 | 16;
}

/** Full decode to one gray channel; 16-bit files stay 16-bit unless `depth` is 8. */
export async function decodeGray(input: Buffer, depth?: 8 | 16): Promise<GrayImage> {
  const info = await probeImage(input);
  const sixteen = (depth ?? info.bitDepth) === 16 && info.bitDepth === 16;
  let pipeline = openImage(input);
  if (info.channels === 2 || info.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  const { data, info: out } = await pipeline
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (out.channels !== 1) throw new Error(`expected gray output, got ${out.channels} channels`);
  const array = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return { data: array, width: out.width, height: out.height, bitDepth: sixteen ? 16 : 8 };
}

/** A gray PNG of the image for display: 16-bit for 16-bit sources unless `depth` is 8. */
export async function imageToGrayPng(input: Buffer, depth?: 8 | 16): Promise<Buffer> {
  if (isDicom(input)) return dicomToGrayPng(input, depth);
  if (isPng(input)) {
    // Already a plain gray PNG of the wanted depth: serve the file's own bytes.
    const header = readPngHeader(input);
    const wanted = depth ?? header.bitDepth;
    if (header.colorType === 0 && header.bitDepth === wanted && (wanted === 8 || wanted === 16)) {
      return input;
    }
  }
  const info = await probeImage(input);
  const sixteen = (depth ?? info.bitDepth) === 16 && info.bitDepth === 16;
  let pipeline = openImage(input);
  if (info.channels === 2 || info.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  if (sixteen) return pipeline.toColourspace('grey16').png({ compressionLevel: 3 }).toBuffer();
  if (info.bitDepth === 16) {
    // sharp scales 16-bit to 8-bit by the full 0..65535 range; stretch the used range instead so
    // a 12-bit X-ray stored in 16 bits is not nearly black.
    const gray = await decodeGray(input, 16);
    return encodeStretched8(gray);
  }
  return pipeline.toColourspace('b-w').png({ compressionLevel: 3 }).toBuffer();
}

async function encodeStretched8(gray: GrayImage): Promise<Buffer> {
  const { data, width, height } = gray;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < min) min = data[i];
    if (data[i] > max) max = data[i];
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i] - min) * scale);
  return sharp(out, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/** A small 8-bit thumbnail PNG whose longer side is `size`. */
export async function thumbnailPng(input: Buffer, size: number): Promise<Buffer> {
  const display = await imageToGrayPng(input, 8);
  return sharp(display)
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * 8-bit gray pixels of an image file, optionally resized to `size` x `size` (for the ML worker).
 * 16-bit images are stretched over their used range.
 */
export async function readGray8(
  filePath: string,
  size?: number,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const input = await fs.readFile(filePath);
  if (isDicom(input)) {
    const gray = await dicomGray8(input);
    if (!size) return gray;
    const { data, info: out } = await sharp(gray.data, {
      raw: { width: gray.width, height: gray.height, channels: 1 },
    })
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: out.width,
      height: out.height,
    };
  }
  const info = await probeImage(input);
  let pipeline = info.bitDepth === 16 ? sharp(await imageToGrayPng(input, 8)) : openImage(input);
  if (info.channels === 2 || info.channels === 4)
    pipeline = pipeline.flatten({ background: '#000000' });
  pipeline = pipeline.toColourspace('b-w');
  if (size) pipeline = pipeline.resize(size, size, { fit: 'fill' });
  const { data, info: out } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: out.width,
    height: out.height,
  };
}
